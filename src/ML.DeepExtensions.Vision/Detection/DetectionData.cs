using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>One image letterboxed to the input size, with its boxes in input pixels.</summary>
/// <param name="Pixels">Channels × size × size bytes, channel-major (R, G, B).</param>
/// <param name="Boxes">x0, y0, x1, y1 per box, in letterboxed input pixels.</param>
/// <param name="Classes">Zero-based class per box.</param>
internal sealed record DetectionExample(byte[] Pixels, float[] Boxes, long[] Classes);

/// <summary>
/// ML.NET's detection column convention, checked once for both schema forms: an <c>MLImage</c> column, a label column of
/// variable-length key vectors (one key per object) and a box column of variable-length Single vectors, four values
/// x0, y0, x1, y1 in pixels of the original image per object.
/// </summary>
internal static class DetectionColumns
{
    private const string ExpectedImage = "an image (MLImage, from mlContext.Transforms.LoadImages)";
    private const string ExpectedLabel = "a vector of keys, one per object (mlContext.Transforms.Conversion.MapValueToKey on a vector of class names)";
    private const string ExpectedBox = "a vector of Single, four values x0, y0, x1, y1 in pixels per object";

    /// <summary>Checks the columns and returns the label's key count.</summary>
    public static int Check(DataViewSchema schema, string image, string label, string box, string role = "")
    {
        var i = SchemaChecks.Find(schema, role + "image", image);
        if (i.Type is not ImageDataViewType)
            throw SchemaChecks.Mismatch(role + "image", image, ExpectedImage, i.Type);
        var l = SchemaChecks.Find(schema, role + "label", label);
        if (l.Type is not VectorDataViewType { ItemType: KeyDataViewType { Count: > 0 } key } || key.RawType != typeof(uint))
            throw SchemaChecks.Mismatch(role + "label", label, ExpectedLabel, l.Type);
        var b = SchemaChecks.Find(schema, role + "box", box);
        if (b.Type is not VectorDataViewType { ItemType: var item } || item != NumberDataViewType.Single)
            throw SchemaChecks.Mismatch(role + "box", box, ExpectedBox, b.Type);
        return (int)key.Count;
    }

    /// <summary>The shape form of <see cref="Check(DataViewSchema, string, string, string, string)"/>.</summary>
    public static SchemaShape.Column Check(SchemaShape schema, string image, string label, string box)
    {
        var i = SchemaChecks.Find(schema, "image", image);
        if (i.Kind != SchemaShape.Column.VectorKind.Scalar || i.ItemType is not ImageDataViewType)
            throw SchemaChecks.Mismatch("image", image, ExpectedImage, SchemaChecks.Describe(i));
        var l = SchemaChecks.Find(schema, "label", label);
        if (l.Kind == SchemaShape.Column.VectorKind.Scalar || !l.IsKey || l.ItemType != NumberDataViewType.UInt32)
            throw SchemaChecks.Mismatch("label", label, ExpectedLabel, SchemaChecks.Describe(l));
        var b = SchemaChecks.Find(schema, "box", box);
        if (b.Kind == SchemaShape.Column.VectorKind.Scalar || b.ItemType != NumberDataViewType.Single)
            throw SchemaChecks.Mismatch("box", box, ExpectedBox, SchemaChecks.Describe(b));
        return l;
    }
}

/// <summary>
/// Letterboxing: the image is scaled by one factor (bilinear) so that it fits a square of the input size, placed at the
/// top-left corner and padded with grey. Boxes scale by the same factor; predictions are divided by it.
/// </summary>
internal static class Letterbox
{
    private const byte Padding = 128;

    /// <summary>The scale factor of an image of <paramref name="width"/> × <paramref name="height"/> for input <paramref name="size"/>.</summary>
    public static float Scale(int width, int height, int size) => Math.Min((float)size / width, (float)size / height);

    /// <summary>The image's RGB pixels letterboxed into <paramref name="size"/>², channel-major, and the scale factor.</summary>
    public static (byte[] Pixels, float Scale) Apply(MLImage image, int size)
    {
        var (w, h) = (image.Width, image.Height);
        var scale = Scale(w, h, size);
        var pixels = new byte[3 * size * size];
        Array.Fill(pixels, Padding);
        var source = image.Pixels.ToArray();
        var (r, b) = image.PixelFormat == MLPixelFormat.Rgba32 ? (0, 2) : (2, 0);
        var outW = Math.Min(size, (int)Math.Round(w * scale));
        var outH = Math.Min(size, (int)Math.Round(h * scale));
        var plane = size * size;
        for (var y = 0; y < outH; y++)
        {
            var sy = Math.Clamp((y + 0.5f) / scale - 0.5f, 0, h - 1);
            var y0 = (int)sy;
            var y1 = Math.Min(y0 + 1, h - 1);
            var fy = sy - y0;
            for (var x = 0; x < outW; x++)
            {
                var sx = Math.Clamp((x + 0.5f) / scale - 0.5f, 0, w - 1);
                var x0 = (int)sx;
                var x1 = Math.Min(x0 + 1, w - 1);
                var fx = sx - x0;
                for (var c = 0; c < 3; c++)
                {
                    var offset = c == 0 ? r : c == 1 ? 1 : b;
                    float At(int px, int py) => source[(py * w + px) * 4 + offset];
                    var top = At(x0, y0) + (At(x1, y0) - At(x0, y0)) * fx;
                    var bottom = At(x0, y1) + (At(x1, y1) - At(x0, y1)) * fx;
                    pixels[c * plane + y * size + x] = (byte)Math.Clamp(MathF.Round(top + (bottom - top) * fy), 0, 255);
                }
            }
        }
        return (pixels, scale);
    }

    /// <summary>Checks that an image can be letterboxed; the message names the row and the column.</summary>
    public static void CheckImage(MLImage? image, long row, string role, string column)
    {
        if (image is null || image.Width <= 0 || image.Height <= 0)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"Row {row} of the {role} data: image column '{column}' holds no image (empty or missing); expected an image of at least 1×1 pixels."));
        if (image.BitsPerPixel != 32)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"Row {row} of the {role} data: image column '{column}' holds an image of {image.BitsPerPixel} bits per pixel; expected 32-bit BGRA or RGBA (as LoadImages gives)."));
    }
}

/// <summary>Reads and checks detection rows (all before training) into letterboxed examples.</summary>
internal static class DetectionReader
{
    public static List<DetectionExample> Read(IDataView data, Func<long, bool>? rows, string role, string imageColumn, string labelColumn, string boxColumn,
        int size, int classes, CancellationToken cancellation)
    {
        var schema = data.Schema;
        var columns = new[] { schema[imageColumn], schema[labelColumn], schema[boxColumn] };
        var examples = new List<DetectionExample>();
        using var cursor = data.GetRowCursor(columns);
        var getImage = cursor.GetGetter<MLImage>(columns[0]);
        var getLabels = cursor.GetGetter<VBuffer<uint>>(columns[1]);
        var getBoxes = cursor.GetGetter<VBuffer<float>>(columns[2]);
        MLImage image = null!;
        VBuffer<uint> labels = default;
        VBuffer<float> boxes = default;
        long row = -1;
        long totalBoxes = 0;
        while (cursor.MoveNext())
        {
            row++;
            cancellation.ThrowIfCancellationRequested();
            if (rows is not null && !rows(row))
                continue;
            getImage(ref image);
            getLabels(ref labels);
            getBoxes(ref boxes);
            Letterbox.CheckImage(image, row, role, imageColumn);
            var keys = labels.DenseValues().ToArray();
            var values = boxes.DenseValues().ToArray();
            CheckRow(keys, values, image!.Width, image.Height, classes, row, role, labelColumn, boxColumn);
            var (pixels, scale) = Letterbox.Apply(image, size);
            examples.Add(new DetectionExample(pixels, values.Select(v => v * scale).ToArray(), keys.Select(k => (long)k - 1).ToArray()));
            totalBoxes += keys.Length;
        }
        if (examples.Count == 0)
            throw BatchSource.NoRows($"The {role} data has no rows (image column '{imageColumn}', label column '{labelColumn}', box column '{boxColumn}'); at least one row is required.");
        if (totalBoxes == 0)
            throw new InvalidDataException($"The {role} data has no boxes at all: every row of label column '{labelColumn}' and box column '{boxColumn}' is empty; " +
                                           "expected at least one object to learn from.");
        return examples;
    }

    /// <summary>The row rules: 4 box values per label, known keys, finite boxes with x0 &lt; x1 and y0 &lt; y1, inside the image.</summary>
    public static void CheckRow(uint[] keys, float[] values, int width, int height, int classes, long row, string role, string labelColumn, string boxColumn)
    {
        string Where() => string.Create(CultureInfo.InvariantCulture, $"Row {row} of the {role} data");
        if (values.Length != 4 * keys.Length)
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{Where()}: box column '{boxColumn}' holds {values.Length} values for the {keys.Length} labels of label column '{labelColumn}'; expected 4 values (x0, y0, x1, y1) per label, {4 * keys.Length}."));
        for (var i = 0; i < keys.Length; i++)
        {
            if (keys[i] == 0 || keys[i] > classes)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{Where()}: label column '{labelColumn}' holds key {keys[i]} at position {i}; expected a key from 1 to {classes} (0 is a missing value)."));
            var (x0, y0, x1, y1) = (values[4 * i], values[4 * i + 1], values[4 * i + 2], values[4 * i + 3]);
            var box = string.Create(CultureInfo.InvariantCulture, $"({x0}, {y0}, {x1}, {y1})");
            if (!float.IsFinite(x0) || !float.IsFinite(y0) || !float.IsFinite(x1) || !float.IsFinite(y1))
                throw new InvalidDataException($"{Where()}: box {i} of box column '{boxColumn}' is {box}, which is not finite; expected pixel coordinates.");
            if (!(x1 > x0) || !(y1 > y0))
                throw new InvalidDataException($"{Where()}: box {i} of box column '{boxColumn}' is {box}; expected x0 < x1 and y0 < y1 (x0, y0, x1, y1 in pixels).");
            if (x0 < 0 || y0 < 0 || x1 > width || y1 > height)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{Where()}: box {i} of box column '{boxColumn}' is {box}, outside the image of {width}×{height} pixels; expected 0 ≤ x0 < x1 ≤ {width} and 0 ≤ y0 < y1 ≤ {height} (boxes in pixels of the image as loaded)."));
        }
    }
}

/// <summary>
/// Batches of letterboxed images held in memory: features are pixels in [0, 1]; the labels are the box counts; the extras
/// carry the boxes padded to the batch's largest count (<see cref="BoxesKey"/>, <see cref="ClassesKey"/>) and which of them
/// are real (<see cref="MaskKey"/>). Shuffled (training) passes augment each image and its boxes (<see cref="BoxAugmentation"/>:
/// flip, scale/translate, colour jitter as enabled; before them, with <see cref="DetectionAugmentation.Mosaic"/>, an image may
/// become a mosaic with three others, <see cref="MosaicAugmentation"/>), drawing from the epoch's seeded shuffle; other passes never augment.
/// </summary>
internal sealed class DetectionBatchSource : BatchSource
{
    public const string BoxesKey = "Boxes";
    public const string ClassesKey = "BoxClasses";
    public const string MaskKey = "BoxMask";

    /// <summary>Per example, a random seed drawn from the training pass's seeded shuffle (0 in unshuffled passes), present when
    /// the source was created with <c>sampleSeeds</c>: the objective seeds its sampling with it (Faster R-CNN's anchor and
    /// proposal sampling). Sources without it draw nothing more from the shuffle, so the anchor-free detector trains as before.</summary>
    public const string SeedKey = "SampleSeed";

    private readonly List<DetectionExample> _examples;
    private readonly int _size;
    private readonly DetectionAugmentation _augmentation;
    private readonly bool _sampleSeeds;

    public DetectionBatchSource(List<DetectionExample> examples, int size, DetectionAugmentation augmentation, bool sampleSeeds = false)
        : base(3 * size * size, ScalarType.Int64)
    {
        _examples = examples;
        _size = size;
        _augmentation = augmentation;
        _sampleSeeds = sampleSeeds;
    }

    public override bool InMemory => true;

    public override long? Count => _examples.Count;

    protected override IEnumerable<Batch> Produce(int batchSize, Random? shuffle, CancellationToken cancellation)
    {
        var order = Order(_examples.Count, shuffle);
        for (var start = 0; start < order.Length; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var rows = order.AsSpan(start, Math.Min(batchSize, order.Length - start)).ToArray();
            var draws = rows.Select(_ => shuffle is null ? AugmentationDraw.None : _augmentation.Draw(shuffle)).ToArray();
            var seeds = _sampleSeeds ? rows.Select(_ => shuffle is null ? 0L : shuffle.NextInt64(long.MaxValue)).ToArray() : null;
            var examples = rows.Select(r => _examples[r]).ToArray();
            if (shuffle is not null && _augmentation.Mosaic > 0)
                for (var i = 0; i < rows.Length; i++)
                    if (_augmentation.DrawMosaic(shuffle, _examples.Count, _size) is { } mosaic)
                        examples[i] = MosaicAugmentation.Compose([examples[i], .. mosaic.Partners.Select(p => _examples[p])], mosaic.CenterX, mosaic.CenterY, _size);
            yield return Assemble(examples, draws, seeds);
        }
    }

    private Batch Assemble(DetectionExample[] examples, AugmentationDraw[] draws, long[]? seeds)
    {
        var n = examples.Length;
        var size = _size;
        // The pixels are written straight into the batch tensor's storage: no managed buffer of the batch, no copies of it
        // (torch.tensor(float[]) copies the array twice, see HostCopy.ToTensor).
        var featureTensor = torch.empty([n, 3, size, size], ScalarType.Float32);
        var augmented = new (List<float> Boxes, List<int> Kept)[n];
        try
        {
            var features = MemoryMarshal.Cast<byte, float>(featureTensor.bytes);
            for (var i = 0; i < n; i++)
                augmented[i] = BoxAugmentation.Apply(examples[i].Pixels, size, examples[i].Boxes, draws[i], features.Slice(i * FeatureSize, FeatureSize));
        }
        catch
        {
            featureTensor.Dispose();
            throw;
        }
        var most = Math.Max(1, augmented.Max(a => a.Kept.Count));
        var boxes = new float[n * most * 4];
        var classes = new long[n * most];
        var mask = new float[n * most];
        var counts = new long[n];
        for (var i = 0; i < n; i++)
        {
            var (moved, kept) = augmented[i];
            counts[i] = kept.Count;
            for (var k = 0; k < kept.Count; k++)
            {
                moved.CopyTo(4 * k, boxes, (i * most + k) * 4, 4);
                classes[i * most + k] = examples[i].Classes[kept[k]];
                mask[i * most + k] = 1;
            }
        }
        var extras = new Dictionary<string, Tensor>
        {
            [BoxesKey] = torch.tensor(boxes, [n, most, 4]),
            [ClassesKey] = torch.tensor(classes, [n, most]),
            [MaskKey] = torch.tensor(mask, [n, most]),
        };
        if (seeds is not null)
            extras[SeedKey] = torch.tensor(seeds, [n]);
        return new Batch(featureTensor, torch.tensor(counts, [n]), extras);
    }
}

// One generator of detection canvases for the tests, the ObjectDetection sample and the benchmark (linked into each).
// Fashion-MNIST items (data/fashion-mnist/{train,test}/<class>/*.png, MIT — or, when given, the full set's idx files from
// Debian's dataset-fashion-mnist) and, when given, real handwritten digits (OpenCV's samples/data/digits.png from Debian's
// opencv-doc, Apache-2.0 AND BSD-3-Clause) are scaled and pasted at random positions onto crops of a real photo
// (data/photos), several per canvas, without overlap; each box is the exact extent of the item's visible pixels. Train
// canvases use the train split, test canvases the test split (digits: columns 0-79 of the sheet train, 80-99 test);
// everything is drawn from a seed.
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Microsoft.ML.Data;

namespace Samples.Shared;

/// <summary>One canvas: an RGBA image, a class name per object and its box x0, y0, x1, y1 in pixels.</summary>
public sealed class DetectionCanvas
{
    /// <summary>The canvas image.</summary>
    public MLImage Image { get; init; } = null!;

    /// <summary>Class name per object.</summary>
    public string[] Labels { get; init; } = [];

    /// <summary>x0, y0, x1, y1 per object, in pixels.</summary>
    public float[] Box { get; init; } = [];
}

/// <summary>Generates seeded detection canvases from the repository's Fashion-MNIST subset and photos.</summary>
public sealed class DetectionCanvases
{
    private const int ItemThreshold = 24;
    private const string DigitPrefix = "digit-";
    private static readonly string[] FashionClasses = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle-boot"];
    private readonly string _dataDirectory;
    private readonly string? _fashionMnistDirectory;
    private readonly string? _digitsPath;
    private readonly List<(int Width, int Height, byte[] Rgba)> _photos;
    private readonly Dictionary<string, Dictionary<string, List<byte[]>>> _loaded = [];

    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> puts the full Fashion-MNIST (60,000 + 10,000 items, idx files).</summary>
    public const string DebianFashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>Where Debian's <c>opencv-doc</c> puts OpenCV's sheet of 5,000 handwritten 20×20 digits.</summary>
    public const string DebianDigits = "/usr/share/doc/opencv-doc/examples/data/digits.png";

    /// <summary>The class names of the handwritten digits, <c>digit-0</c> to <c>digit-9</c>.</summary>
    public static string[] DigitClasses { get; } = Enumerable.Range(0, 10).Select(d => DigitPrefix + d).ToArray();

    /// <summary>Reads the photos under <paramref name="dataDirectory"/> (the repository's <c>data</c> folder).</summary>
    /// <param name="dataDirectory">The repository's <c>data</c> folder.</param>
    /// <param name="fashionMnistDirectory">When given, Fashion-MNIST items come from the full set's four idx files in this folder
    /// (e.g. <see cref="DebianFashionMnist"/>) instead of the committed subset.</param>
    /// <param name="digitsPath">When given, OpenCV's digit sheet (e.g. <see cref="DebianDigits"/>): the classes
    /// <see cref="DigitClasses"/> become available to <see cref="Generate"/>.</param>
    public DetectionCanvases(string dataDirectory, string? fashionMnistDirectory = null, string? digitsPath = null)
    {
        _dataDirectory = dataDirectory;
        _fashionMnistDirectory = fashionMnistDirectory;
        _digitsPath = digitsPath;
        _photos = Directory.GetFiles(Path.Combine(dataDirectory, "photos"), "*.png").OrderBy(f => f, StringComparer.Ordinal).Select(f =>
        {
            using var image = MLImage.CreateFromFile(f);
            return (image.Width, image.Height, ToRgba(image));
        }).ToList();
        if (_photos.Count == 0)
            throw new FileNotFoundException($"No photo (*.png) under '{Path.Combine(dataDirectory, "photos")}'.");
    }

    /// <summary>The repository's <c>data</c> folder, found from <paramref name="start"/> (default: the program's folder) upwards.</summary>
    public static string FindDataDirectory(string? start = null)
    {
        for (var dir = new DirectoryInfo(start ?? AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "data");
            if (Directory.Exists(Path.Combine(candidate, "fashion-mnist")) && Directory.Exists(Path.Combine(candidate, "photos")))
                return candidate;
        }
        throw new DirectoryNotFoundException($"No data/fashion-mnist and data/photos above '{start ?? AppContext.BaseDirectory}'.");
    }

    /// <summary>Canvases of <paramref name="size"/>² pixels with 1 to <paramref name="maxObjects"/> items each.</summary>
    /// <param name="split"><c>train</c> or <c>test</c>: the Fashion-MNIST split the items come from.</param>
    /// <param name="count">Canvases to make.</param>
    /// <param name="seed">Fixes every choice.</param>
    /// <param name="classes">Classes to use: Fashion-MNIST class folder names and, with a digit sheet, <see cref="DigitClasses"/>
    /// (default the ten Fashion-MNIST classes).</param>
    /// <param name="size">Canvas side in pixels.</param>
    /// <param name="maxObjects">Most items per canvas.</param>
    /// <param name="minSide">Smallest pasted item side in pixels.</param>
    /// <param name="maxSide">Largest pasted item side in pixels.</param>
    public IReadOnlyList<DetectionCanvas> Generate(string split, int count, int seed, string[]? classes = null, int size = 128, int maxObjects = 4,
        int minSide = 24, int maxSide = 48)
    {
        var root = Path.Combine(_dataDirectory, "fashion-mnist", split);
        classes ??= Directory.GetDirectories(root).Select(Path.GetFileName).OrderBy(c => c, StringComparer.Ordinal).ToArray()!;
        var sources = classes.Select(c => Source(split, c)).ToArray();
        var random = new Random(seed);
        var result = new List<DetectionCanvas>(count);
        for (var n = 0; n < count; n++)
        {
            var (pw, ph, photo) = _photos[random.Next(_photos.Count)];
            var crop = random.Next(Math.Min(size, Math.Min(pw, ph)), Math.Min(pw, ph) + 1);
            var (cx, cy) = (random.Next(pw - crop + 1), random.Next(ph - crop + 1));
            var canvas = new byte[size * size * 4];
            for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                var source = ((cy + y * crop / size) * pw + cx + x * crop / size) * 4;
                Array.Copy(photo, source, canvas, (y * size + x) * 4, 4);
            }
            var labels = new List<string>();
            var boxes = new List<float>();
            var objects = random.Next(1, maxObjects + 1);
            for (var o = 0; o < objects; o++)
            {
                var c = random.Next(classes.Length);
                var (grey, itemSide) = sources[c][random.Next(sources[c].Count)];
                var side = random.Next(minSide, maxSide + 1);
                // Tries positions until the item's box overlaps no earlier box.
                for (var attempt = 0; attempt < 30; attempt++)
                {
                    var (x0, y0) = (random.Next(size - side + 1), random.Next(size - side + 1));
                    var box = Paste(null, grey, itemSide, x0, y0, side, size);
                    if (box is null || Overlaps(boxes, box))
                        continue;
                    var tint = (byte)random.Next(180, 256);
                    Paste(canvas, grey, itemSide, x0, y0, side, size, tint);
                    labels.Add(classes[c]);
                    boxes.AddRange(box);
                    break;
                }
            }
            result.Add(new DetectionCanvas { Image = MLImage.CreateFromPixels(size, size, MLPixelFormat.Rgba32, canvas), Labels = labels.ToArray(), Box = boxes.ToArray() });
        }
        return result;
    }

    /// <summary>Draws the <paramref name="n"/>×<paramref name="n"/> item scaled to <paramref name="side"/> at (x0, y0) (nearest
    /// neighbour, intensity as opacity) when <paramref name="canvas"/> is given; returns the exact box of its visible pixels, or null if none.</summary>
    private static float[]? Paste(byte[]? canvas, byte[] grey, int n, int x0, int y0, int side, int size, byte tint = 255)
    {
        int left = int.MaxValue, top = int.MaxValue, right = -1, bottom = -1;
        for (var y = 0; y < side; y++)
        for (var x = 0; x < side; x++)
        {
            var v = grey[(y * n / side) * n + x * n / side];
            if (v < ItemThreshold)
                continue;
            (left, top, right, bottom) = (Math.Min(left, x), Math.Min(top, y), Math.Max(right, x), Math.Max(bottom, y));
            if (canvas is null)
                continue;
            var at = ((y0 + y) * size + x0 + x) * 4;
            var alpha = v / 255f;
            for (var ch = 0; ch < 3; ch++)
                canvas[at + ch] = (byte)(alpha * tint + (1 - alpha) * canvas[at + ch]);
        }
        return right < 0 ? null : [x0 + left, y0 + top, x0 + right + 1, y0 + bottom + 1];
    }

    /// <summary>The items of one class in one split: a count and a reader of item i (grey bytes, side).</summary>
    private ItemSource Source(string split, string name)
    {
        if (name.StartsWith(DigitPrefix, StringComparison.Ordinal))
        {
            if (_digitsPath is null)
                throw new ArgumentException($"Class '{name}' needs the digit sheet: pass digitsPath (e.g. {DebianDigits}, from Debian's opencv-doc; eng/install-reference-tools.sh installs it).", nameof(name));
            var digits = Loaded("digits", () => ReadDigits(_digitsPath));
            var all = digits[name];
            // Each class is 5 rows × 100 columns of the sheet, stored row-major: columns 0-79 train, 80-99 test.
            var part = all.Where((_, i) => split == "train" ? i % 100 < 80 : i % 100 >= 80).ToList();
            return new ItemSource(part.Count, i => (part[i], 20));
        }
        if (_fashionMnistDirectory is not null)
        {
            var items = Loaded("fashion-" + split, () => ReadFashionMnist(_fashionMnistDirectory, split == "train" ? "train" : "t10k"))[name];
            return new ItemSource(items.Count, i => (items[i], 28));
        }
        var files = Directory.GetFiles(Path.Combine(_dataDirectory, "fashion-mnist", split, name), "*.png").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        var cache = new Dictionary<int, byte[]>();
        return new ItemSource(files.Length, i =>
        {
            if (!cache.TryGetValue(i, out var grey))
            {
                using var item = MLImage.CreateFromFile(files[i]);
                grey = ToRgba(item).Where((_, j) => j % 4 == 0).ToArray();
                cache[i] = grey;
            }
            return (grey, 28);
        });
    }

    private Dictionary<string, List<byte[]>> Loaded(string key, Func<Dictionary<string, List<byte[]>>> read)
    {
        if (!_loaded.TryGetValue(key, out var items))
            _loaded[key] = items = read();
        return items;
    }

    private static Dictionary<string, List<byte[]>> ReadFashionMnist(string folder, string prefix)
    {
        static byte[] Read(string path)
        {
            using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var memory = new MemoryStream();
            gzip.CopyTo(memory);
            return memory.ToArray();
        }
        var images = Read(Path.Combine(folder, prefix + "-images-idx3-ubyte.gz"));
        var labels = Read(Path.Combine(folder, prefix + "-labels-idx1-ubyte.gz"));
        var result = FashionClasses.ToDictionary(c => c, _ => new List<byte[]>());
        for (var i = 0; i < labels.Length - 8; i++)
            result[FashionClasses[labels[8 + i]]].Add(images.AsSpan(16 + i * 784, 784).ToArray());
        return result;
    }

    private static Dictionary<string, List<byte[]>> ReadDigits(string path)
    {
        using var sheet = MLImage.CreateFromFile(path);
        if (sheet.Width != 2000 || sheet.Height != 1000)
            throw new InvalidDataException($"'{path}' is not OpenCV's 2000×1000 digit sheet (got {sheet.Width}×{sheet.Height}).");
        var rgba = ToRgba(sheet);
        var result = DigitClasses.ToDictionary(c => c, _ => new List<byte[]>());
        for (var row = 0; row < 50; row++)
        for (var column = 0; column < 100; column++)
        {
            var cell = new byte[400];
            for (var y = 0; y < 20; y++)
            for (var x = 0; x < 20; x++)
                cell[y * 20 + x] = rgba[((row * 20 + y) * 2000 + column * 20 + x) * 4];
            result[DigitClasses[row / 5]].Add(cell);
        }
        return result;
    }

    private sealed record ItemSource(int Count, Func<int, (byte[] Grey, int Side)> Read)
    {
        public (byte[] Grey, int Side) this[int index] => Read(index);
    }

    private static bool Overlaps(List<float> boxes, float[] box)
    {
        for (var i = 0; i < boxes.Count; i += 4)
            if (box[0] < boxes[i + 2] && boxes[i] < box[2] && box[1] < boxes[i + 3] && boxes[i + 1] < box[3])
                return true;
        return false;
    }

    private static byte[] ToRgba(MLImage image)
    {
        var pixels = image.Pixels.ToArray();
        if (image.PixelFormat == MLPixelFormat.Bgra32)
            for (var i = 0; i < pixels.Length; i += 4)
                (pixels[i], pixels[i + 2]) = (pixels[i + 2], pixels[i]);
        return pixels;
    }
}

// One generator of detection canvases for the tests, the ObjectDetection sample and the benchmark (linked into each).
// Fashion-MNIST items (data/fashion-mnist/{train,test}/<class>/*.png, MIT) are scaled and pasted at random positions onto
// crops of a real photo (data/photos), several per canvas, without overlap; each box is the exact extent of the item's
// visible pixels. Train canvases use the train split, test canvases the test split; everything is drawn from a seed.
using System;
using System.Collections.Generic;
using System.IO;
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
    private readonly string _dataDirectory;
    private readonly List<(int Width, int Height, byte[] Rgba)> _photos;

    /// <summary>Reads the photos under <paramref name="dataDirectory"/> (the repository's <c>data</c> folder).</summary>
    public DetectionCanvases(string dataDirectory)
    {
        _dataDirectory = dataDirectory;
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
    /// <param name="classes">Fashion-MNIST class folders to use (default all ten).</param>
    /// <param name="size">Canvas side in pixels.</param>
    /// <param name="maxObjects">Most items per canvas.</param>
    /// <param name="minSide">Smallest pasted item side in pixels.</param>
    /// <param name="maxSide">Largest pasted item side in pixels.</param>
    public IReadOnlyList<DetectionCanvas> Generate(string split, int count, int seed, string[]? classes = null, int size = 128, int maxObjects = 4,
        int minSide = 24, int maxSide = 48)
    {
        var root = Path.Combine(_dataDirectory, "fashion-mnist", split);
        classes ??= Directory.GetDirectories(root).Select(Path.GetFileName).OrderBy(c => c, StringComparer.Ordinal).ToArray()!;
        var items = classes.Select(c => Directory.GetFiles(Path.Combine(root, c), "*.png").OrderBy(f => f, StringComparer.Ordinal).ToArray()).ToArray();
        var random = new Random(seed);
        var cache = new Dictionary<string, byte[]>();
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
                var file = items[c][random.Next(items[c].Length)];
                if (!cache.TryGetValue(file, out var grey))
                {
                    using var item = MLImage.CreateFromFile(file);
                    grey = ToRgba(item).Where((_, i) => i % 4 == 0).ToArray();
                    cache[file] = grey;
                }
                var side = random.Next(minSide, maxSide + 1);
                // Tries positions until the item's box overlaps no earlier box.
                for (var attempt = 0; attempt < 30; attempt++)
                {
                    var (x0, y0) = (random.Next(size - side + 1), random.Next(size - side + 1));
                    var box = Paste(null, grey, x0, y0, side, size);
                    if (box is null || Overlaps(boxes, box))
                        continue;
                    var tint = (byte)random.Next(180, 256);
                    Paste(canvas, grey, x0, y0, side, size, tint);
                    labels.Add(classes[c]);
                    boxes.AddRange(box);
                    break;
                }
            }
            result.Add(new DetectionCanvas { Image = MLImage.CreateFromPixels(size, size, MLPixelFormat.Rgba32, canvas), Labels = labels.ToArray(), Box = boxes.ToArray() });
        }
        return result;
    }

    /// <summary>Draws the 28×28 item scaled to <paramref name="side"/> at (x0, y0) (nearest neighbour, intensity as opacity)
    /// when <paramref name="canvas"/> is given; returns the exact box of its visible pixels, or null if none.</summary>
    private static float[]? Paste(byte[]? canvas, byte[] grey, int x0, int y0, int side, int size, byte tint = 255)
    {
        int left = int.MaxValue, top = int.MaxValue, right = -1, bottom = -1;
        for (var y = 0; y < side; y++)
        for (var x = 0; x < side; x++)
        {
            var v = grey[(y * 28 / side) * 28 + x * 28 / side];
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

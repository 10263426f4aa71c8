using System;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Benchmarks.Vision;

/// <summary>One Fashion-MNIST image as the classifier sees it: 784 pixels in [0, 1] (channel, row, column) and a key label.</summary>
public sealed class FashionRow
{
    /// <summary>Grey pixels / 255, row-major 28 × 28.</summary>
    [VectorType(FashionMnist.Pixels)]
    public float[] Pixels { get; set; } = [];

    /// <summary>The class 0..9 as a key. LoadFromEnumerable shifts a [KeyType] property by one (the view's key value is class + 1, 0 = missing), so key index = class on both sides.</summary>
    [KeyType(FashionMnist.Classes)]
    public uint Label { get; set; }
}

/// <summary>Input of the PredictionEngine path: the pixels only.</summary>
public sealed class FashionInput
{
    /// <summary>Grey pixels / 255.</summary>
    [VectorType(FashionMnist.Pixels)]
    public float[] Pixels { get; set; } = [];
}

/// <summary>
/// The full Fashion-MNIST split (60,000 + 10,000 grey 28 × 28 images, 10 classes, MIT; Debian
/// <c>dataset-fashion-mnist</c>), read straight from the four IDX .gz files that
/// <c>eng/data/fetch-fashion-mnist.sh</c> caches, into pixel vectors (no image files).
/// </summary>
internal sealed class FashionMnist
{
    public const int Side = 28;
    public const int Pixels = Side * Side;
    public const int Classes = 10;

    /// <summary>Fashion-MNIST training-set pixel mean and standard deviation (in [0, 1]), the usual normalisation.</summary>
    public const float Mean = 0.2860f;
    public const float Std = 0.3530f;

    private FashionMnist(float[] features, long[] labels)
    {
        Features = features;
        Labels = labels;
    }

    /// <summary>Row-major pixels / 255, Rows × 784.</summary>
    public float[] Features { get; }

    /// <summary>Class 0..9 per row.</summary>
    public long[] Labels { get; }

    public int Rows => Labels.Length;

    /// <summary>The first <paramref name="count"/> rows (both files are class-balanced and shuffled by their authors).</summary>
    public FashionMnist Take(int count)
    {
        count = Math.Min(count, Rows);
        return new FashionMnist(Features.AsSpan(0, count * Pixels).ToArray(), Labels.AsSpan(0, count).ToArray());
    }

    public FashionRow[] ToRows()
    {
        var rows = new FashionRow[Rows];
        for (var i = 0; i < rows.Length; i++)
            rows[i] = new FashionRow { Pixels = Features.AsSpan(i * Pixels, Pixels).ToArray(), Label = (uint)Labels[i] };
        return rows;
    }

    public IDataView ToDataView(MLContext mlContext) => mlContext.Data.LoadFromEnumerable(ToRows());

    /// <summary>Reads <c>{prefix}-images-idx3-ubyte.gz</c> and <c>{prefix}-labels-idx1-ubyte.gz</c> (prefix <c>train</c> or <c>t10k</c>).</summary>
    public static FashionMnist Load(string folder, string prefix)
    {
        var imagesPath = Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz");
        var labelsPath = Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz");
        var images = ReadIdx(imagesPath, 2051, out var imageDims);
        var labels = ReadIdx(labelsPath, 2049, out var labelDims);
        if (imageDims.Length != 3 || imageDims[1] != Side || imageDims[2] != Side)
            throw new InvalidDataException($"'{imagesPath}': expected an IDX3 file of N × {Side} × {Side} images; received dimensions [{string.Join(", ", imageDims)}].");
        if (labelDims.Length != 1 || labelDims[0] != imageDims[0])
            throw new InvalidDataException($"'{labelsPath}': expected {imageDims[0]} labels to match '{imagesPath}'; received dimensions [{string.Join(", ", labelDims)}].");
        var features = new float[images.Length];
        for (var i = 0; i < images.Length; i++)
            features[i] = images[i] / 255f;
        var classes = new long[labels.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= Classes)
                throw new InvalidDataException($"'{labelsPath}': label {labels[i]} at row {i} is outside 0..{Classes - 1}.");
            classes[i] = labels[i];
        }
        return new FashionMnist(features, classes);
    }

    /// <summary>The folder printed by <c>eng/data/fetch-fashion-mnist.sh</c> (which fetches and verifies the files on first use).</summary>
    public static string Fetch(string root)
    {
        var script = Path.Combine(root, "eng", "data", "fetch-fashion-mnist.sh");
        var start = new ProcessStartInfo("bash", $"\"{script}\"") { RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start bash for '{script}'.");
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        if (process.ExitCode != 0 || !Directory.Exists(output))
            throw new InvalidOperationException($"'{script}' failed (exit code {process.ExitCode}); expected it to print the cache folder, received '{output}'.");
        return output;
    }

    private static byte[] ReadIdx(string path, int magic, out int[] dims)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new BinaryReader(gzip);
        var header = BinaryPrimitives.ReadInt32BigEndian(reader.ReadBytes(4));
        if (header != magic)
            throw new InvalidDataException($"'{path}': expected IDX magic number {magic}; received {header}.");
        dims = new int[magic & 0xFF];
        long size = 1;
        for (var d = 0; d < dims.Length; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(reader.ReadBytes(4));
            size *= dims[d];
        }
        var data = reader.ReadBytes(checked((int)size));
        if (data.Length != size)
            throw new InvalidDataException($"'{path}': expected {size} data bytes after the header; the file ends after {data.Length}.");
        return data;
    }
}

using System;
using System.IO;
using System.Linq;
using Microsoft.ML;

namespace ML.DeepExtensions.Vision.Tests;

/// <summary>The Fashion-MNIST subset committed under data/fashion-mnist (see data/README.md), loaded the ML.NET way.</summary>
internal static class VisionTestData
{
    public static string RepoPath(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (Directory.Exists(candidate) || File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"'{relative}' not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>Image files of a split ("train" or "test"), each with its class folder as label; <paramref name="perClass"/> limits each class.</summary>
    public static ImageFile[] Files(string split, int perClass = int.MaxValue)
        => Directory.GetDirectories(RepoPath(Path.Combine("data", "fashion-mnist", split)))
            .OrderBy(d => d, StringComparer.Ordinal)
            .SelectMany(d => Directory.GetFiles(d, "*.png").OrderBy(f => f, StringComparer.Ordinal).Take(perClass)
                .Select(f => new ImageFile { ImagePath = f, Category = Path.GetFileName(d) }))
            .ToArray();

    /// <summary>Rows with an <c>Image</c> (MLImage) column and a key <c>Label</c> over the ten class names.</summary>
    public static IDataView Images(MLContext mlContext, string split, int perClass = int.MaxValue)
    {
        var files = mlContext.Data.LoadFromEnumerable(Files(split, perClass));
        var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ImageFile.Category),
                keyData: mlContext.Data.LoadFromEnumerable(Files("train", 1).Select(f => new ClassName { Category = f.Category })))
            .Append(mlContext.Transforms.LoadImages("Image", null, nameof(ImageFile.ImagePath)));
        return pipeline.Fit(files).Transform(files);
    }
}

internal sealed class ImageFile
{
    public string ImagePath { get; set; } = "";

    public string Category { get; set; } = "";
}

internal sealed class ClassName
{
    public string Category { get; set; } = "";
}

using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Samples.Shared;

namespace ML.DeepExtensions.Vision.Tests.Detection;

/// <summary>Detection data in ML.NET's column convention, from the seeded canvases and from ML.NET's fruit set.</summary>
internal static class DetectionTestData
{
    private static DetectionCanvases? _canvases;

    public static DetectionCanvases Canvases => _canvases ??= new DetectionCanvases(DetectionCanvases.FindDataDirectory());

    public sealed class Row
    {
        [ImageType(128, 128)]
        public MLImage? Image { get; set; }

        public string[] Labels { get; set; } = [];

        public float[] Box { get; set; } = [];
    }

    /// <summary>Rows as a data view with Image (MLImage), Labels (vector of String) and Box (vector of Single).</summary>
    public static IDataView Load(MLContext ml, IEnumerable<Row> rows) => ml.Data.LoadFromEnumerable(rows.ToArray());

    public static IEnumerable<Row> Rows(IEnumerable<DetectionCanvas> canvases) => canvases.Select(c => new Row { Image = c.Image, Labels = c.Labels, Box = c.Box });

    /// <summary>The Label key column, mapped from the training rows' class names (validation and test data reuse it).</summary>
    public static ITransformer Keys(MLContext ml, IDataView training) => ml.Transforms.Conversion.MapValueToKey("Label", "Labels").Fit(training);

    /// <summary>ML.NET's 10-image fruit set, read from ../shared/data/fruit-detection beside the repository, boxes scaled to its thumbnails.</summary>
    public static string FruitDirectory()
    {
        var repo = Directory.GetParent(DetectionCanvases.FindDataDirectory())!.FullName;
        return Path.GetFullPath(Path.Combine(repo, "..", "shared", "data", "fruit-detection"));
    }

    public static Row[] Fruit()
    {
        var dir = FruitDirectory();
        return File.ReadAllLines(Path.Combine(dir, "fruit-detection-ten.tsv")).Where(l => l.Length > 0).Select(line =>
        {
            var parts = line.Split('\t');
            // The PNGs are 100×75 thumbnails of the 400×300 photos the boxes were drawn on (README): scale by 1/4.
            var boxes = parts[2].Split(',').Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture) / 4).ToArray();
            return new Row { Image = MLImage.CreateFromFile(Path.Combine(dir, parts[0])), Labels = parts[1].Split(','), Box = boxes };
        }).ToArray();
    }
}

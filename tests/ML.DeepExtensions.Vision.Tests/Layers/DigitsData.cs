using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Vision.Tests.Layers;

/// <summary>The real 8×8 digits committed under data/digits (see data/README.md), for the image-layer tests.</summary>
internal static class DigitsData
{
    /// <summary>Features = 64 pixel counts scaled to [0, 1], Label = the digit as a key.</summary>
    public static IDataView Digits(MLContext mlContext)
    {
        var data = mlContext.Data.LoadFromTextFile(VisionTestData.RepoPath("data/digits/digits.csv"), new[]
        {
            new TextLoader.Column("Pixels", DataKind.Single, 0, 63),
            new TextLoader.Column("Digit", DataKind.String, 64),
        }, separatorChar: ',');
        var pipeline = mlContext.Transforms.Expression("Features", "x => x / 16", "Pixels")
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", "Digit"));
        return pipeline.Fit(data).Transform(data);
    }

    /// <summary>Digits split 80/20 by a fixed seed.</summary>
    public static (IDataView Train, IDataView Test) DigitsSplit(MLContext mlContext)
    {
        var split = mlContext.Data.TrainTestSplit(Digits(mlContext), testFraction: 0.2, seed: 7);
        return (mlContext.Data.Cache(split.TrainSet), mlContext.Data.Cache(split.TestSet));
    }

    /// <summary>Reads a float column (or every slot of a vector column) into an array.</summary>
    public static float[] Scores(IDataView scored, string column = "Score")
    {
        var col = scored.Schema[column];
        return col.Type is VectorDataViewType
            ? scored.GetColumn<float[]>(col).SelectMany(v => v).ToArray()
            : scored.GetColumn<float>(col).ToArray();
    }
}

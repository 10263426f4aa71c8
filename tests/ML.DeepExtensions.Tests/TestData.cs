using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Tests;

/// <summary>The real data sets committed under data/ (see data/README.md), loaded the ML.NET way.</summary>
internal static class TestData
{
    public static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"'{relative}' not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>8×8 digits: Features = 64 pixel counts scaled to [0, 1], Label = the digit as text.</summary>
    public static IDataView Digits(MLContext mlContext)
    {
        var data = mlContext.Data.LoadFromTextFile(RepoFile("data/digits/digits.csv"), new[]
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

    /// <summary>Diabetes: Features = 10 standardized baseline variables, Label = disease progression.</summary>
    public static (IDataView Train, IDataView Test) DiabetesSplit(MLContext mlContext)
    {
        var data = mlContext.Data.LoadFromTextFile(RepoFile("data/diabetes/diabetes.csv"), new[]
        {
            new TextLoader.Column("Raw", DataKind.Single, 0, 9),
            new TextLoader.Column("Label", DataKind.Single, 10),
        }, separatorChar: ',', hasHeader: true);
        var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.25, seed: 3);
        var normalize = mlContext.Transforms.NormalizeMeanVariance("Features", "Raw").Fit(split.TrainSet);
        return (mlContext.Data.Cache(normalize.Transform(split.TrainSet)), mlContext.Data.Cache(normalize.Transform(split.TestSet)));
    }

    /// <summary>Rows with a Features vector and a label, built in memory.</summary>
    public static IDataView FromRows<TLabel>(MLContext mlContext, float[][] features, TLabel[] labels)
    {
        var rows = features.Select((f, i) => new VectorRow<TLabel> { Features = f, Label = labels[i] }).ToArray();
        var schema = SchemaDefinition.Create(typeof(VectorRow<TLabel>));
        schema[nameof(VectorRow<TLabel>.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features.Length == 0 ? 1 : features[0].Length);
        return mlContext.Data.LoadFromEnumerable(rows, schema);
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

internal sealed class VectorRow<TLabel>
{
    public float[] Features { get; set; } = [];

    public TLabel Label { get; set; } = default!;
}

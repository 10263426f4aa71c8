using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Benchmarks;

/// <summary>One example: 64 pixel values scaled to [0, 1] and the digit as text.</summary>
public sealed class DigitRow
{
    /// <summary>Pixels / 16.</summary>
    [VectorType(64)]
    public float[] Features { get; set; } = [];

    /// <summary>The digit, as text (mapped to a key by the pipeline).</summary>
    public string Digit { get; set; } = "";
}

/// <summary>Input of the scoring benchmark: the feature vector only.</summary>
public sealed class ScoreInput
{
    /// <summary>Pixels / 16.</summary>
    [VectorType(64)]
    public float[] Features { get; set; } = [];
}

/// <summary>Output of the scoring benchmark: the class probabilities.</summary>
public sealed class ScoreOutput
{
    /// <summary>K class probabilities.</summary>
    public float[] Score { get; set; } = [];
}

/// <summary>
/// The committed digits data (data/digits/digits.csv), loaded the ML.NET way like the tests do
/// (Features = pixels / 16 via an Expression transform, Label = MapValueToKey of the digit), then replicated
/// to the requested number of copies so that an epoch lasts long enough to time.
/// </summary>
internal sealed class DigitsData
{
    public const int FeatureSize = 64;

    private DigitsData(IDataView trainingView, float[] features, long[] labels, int classes, int baseRows, int copies, double readSeconds)
    {
        TrainingView = trainingView;
        Features = features;
        Labels = labels;
        Classes = classes;
        BaseRows = baseRows;
        Copies = copies;
        ReadSeconds = readSeconds;
    }

    /// <summary>Features (Single[64]) and Label (key) columns, as the trainer sees them.</summary>
    public IDataView TrainingView { get; }

    /// <summary>Row-major features of <see cref="Rows"/> rows, read back from <see cref="TrainingView"/>.</summary>
    public float[] Features { get; }

    /// <summary>Zero-based class index of every row (key − 1), read back from <see cref="TrainingView"/>.</summary>
    public long[] Labels { get; }

    public int Classes { get; }

    public int BaseRows { get; }

    public int Copies { get; }

    public int Rows => Labels.Length;

    /// <summary>Seconds of one ML.NET cursor pass over Features + Label of <see cref="TrainingView"/> into arrays.</summary>
    public double ReadSeconds { get; }

    public static DigitsData Load(MLContext mlContext, string csvPath, int copies)
    {
        var raw = mlContext.Data.LoadFromTextFile(csvPath, new[]
        {
            new TextLoader.Column("Pixels", DataKind.Single, 0, 63),
            new TextLoader.Column("Digit", DataKind.String, 64),
        }, separatorChar: ',');
        var scaled = mlContext.Transforms.Expression("Features", "x => x / 16", "Pixels").Fit(raw).Transform(raw);
        var baseRows = mlContext.Data.CreateEnumerable<DigitRow>(scaled, reuseRowObject: false).ToArray();

        var replicated = new List<DigitRow>(baseRows.Length * copies);
        for (var c = 0; c < copies; c++)
            replicated.AddRange(baseRows);
        var rows = mlContext.Data.LoadFromEnumerable(replicated);
        var view = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(DigitRow.Digit)).Fit(rows).Transform(rows);

        var clock = Stopwatch.StartNew();
        var (features, labels) = ReadArrays(view);
        clock.Stop();
        var classes = checked((int)((KeyDataViewType)view.Schema["Label"].Type).Count);
        return new DigitsData(view, features, labels, classes, baseRows.Length, copies, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The features of the first <paramref name="count"/> rows (cycling) as scoring inputs.</summary>
    public ScoreInput[] ScoringRows(int count)
    {
        var rows = new ScoreInput[count];
        for (var i = 0; i < count; i++)
            rows[i] = new ScoreInput { Features = Features.AsSpan(i % Rows * FeatureSize, FeatureSize).ToArray() };
        return rows;
    }

    private static (float[] Features, long[] Labels) ReadArrays(IDataView view)
    {
        var featureCol = view.Schema["Features"];
        var labelCol = view.Schema["Label"];
        var features = new List<float>();
        var labels = new List<long>();
        using var cursor = view.GetRowCursor(new[] { featureCol, labelCol });
        var getFeatures = cursor.GetGetter<VBuffer<float>>(featureCol);
        var getLabel = cursor.GetGetter<uint>(labelCol);
        VBuffer<float> vector = default;
        uint key = 0;
        var buffer = new float[FeatureSize];
        while (cursor.MoveNext())
        {
            getFeatures(ref vector);
            getLabel(ref key);
            if (vector.Length != FeatureSize || key == 0)
                throw new InvalidDataException($"Unexpected row {cursor.Position}: {vector.Length} features, key {key}.");
            vector.CopyTo(buffer);
            features.AddRange(buffer);
            labels.Add(key - 1);
        }
        return (features.ToArray(), labels.ToArray());
    }

    /// <summary>Walks up from the application directory and the working directory to the repository root.</summary>
    public static string RepoRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "ML.DeepExtensions.sln")))
                    return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException($"ML.DeepExtensions.sln not found above {AppContext.BaseDirectory} or {Directory.GetCurrentDirectory()}.");
    }
}

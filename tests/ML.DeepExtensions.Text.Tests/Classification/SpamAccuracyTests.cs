using System.Diagnostics;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Training;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Text.Tests.Classification;

/// <summary>
/// Real data: the committed SpamAssassin subset (1,050 e-mails, Subject + body, cut to 1,200 characters), a seeded
/// 80/20 split, a held-out test part never seen in training. Bounded: a few epochs on 840 texts.
/// </summary>
public sealed class SpamAccuracyTests(ITestOutputHelper output)
{
    private static (IDataView Train, IDataView Test) Data(MLContext mlContext)
    {
        var (train, test) = TextData.Split(TextData.Emails, 0.2);
        return (TextData.Load(mlContext, train), TextData.Load(mlContext, test));
    }

    [Theory]
    [InlineData(TextEncoderKind.Lstm, 0.95)]
    [InlineData(TextEncoderKind.Transformer, 0.95)]
    public void SpamAssassinSubset_HeldOutAccuracy_MeetsThreshold(TextEncoderKind kind, double threshold)
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = Data(mlContext);
        var options = new NeuralTextBinaryOptions
        {
            Encoder = kind == TextEncoderKind.Transformer ? TextEncoder.Transformer(layers: 1, heads: 2, pooling: TextPooling.Mean) : TextEncoder.Lstm(hiddenSize: 32, pooling: TextPooling.Max),
            EmbeddingDimensions = 32,
            Epochs = 4,
            MaxLength = 64,
            LearningRate = 3e-3,
            Progress = new System.Progress<EpochMetrics>(m => System.IO.File.AppendAllText("/tmp/textmodels-progress.txt", $"{System.DateTime.Now:HH:mm:ss} {kind} {m}\n")),
        };
        var watch = Stopwatch.StartNew();
        var model = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(options).Fit(train);
        var trainSeconds = watch.Elapsed.TotalSeconds;
        var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(test));
        output.WriteLine($"{kind}: accuracy {metrics.Accuracy:P2}, AUC {metrics.AreaUnderRocCurve:F4}, F1 {metrics.F1Score:F4} on {test.GetRowCount() ?? TextData.Emails.Count / 5} held-out e-mails; training {trainSeconds:F1} s");
        output.WriteLine(string.Join("\n", model.LastTransformer.History.Select(h => h.ToString())));
        Assert.True(metrics.Accuracy >= threshold, $"{kind} accuracy {metrics.Accuracy:P2} is below {threshold:P0}");
    }
}

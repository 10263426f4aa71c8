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
/// 80/20 split, a held-out test part never seen in training. Bounded: 4 epochs on 840 texts of at most 64 words.
/// </summary>
public sealed class SpamAccuracyTests(ITestOutputHelper output)
{
    private static (IDataView Train, IDataView Test) Data(MLContext mlContext)
    {
        var (train, test) = TextData.Split(TextData.Emails, 0.2);
        return (TextData.Load(mlContext, train), TextData.Load(mlContext, test));
    }

    [Theory]
    [Trait("Category", "Accuracy")]
    [Trait("Category", "Slow")]
    // Measured (seed 1, 2-core VM): Transformer 95.71 %, BiLSTM with max pooling 91.43 %. The subset is small and the
    // training short (4 epochs, the first 64 words), so the thresholds sit below the ≥ 97 % the full corpus reaches
    // (samples/SpamClassification -- --full).
    // The same thresholds with TrainingPrecision.MixedBFloat16: bfloat16 products in the padded LSTM (unrolled), the
    // attention and the feed-forward layers must still earn them.
    [InlineData(TextEncoderKind.Lstm, 0.88, TrainingPrecision.Float32)]
    [InlineData(TextEncoderKind.Transformer, 0.93, TrainingPrecision.Float32)]
    [InlineData(TextEncoderKind.Lstm, 0.88, TrainingPrecision.MixedBFloat16)]
    [InlineData(TextEncoderKind.Transformer, 0.93, TrainingPrecision.MixedBFloat16)]
    public void SpamAssassinSubset_HeldOutAccuracy_MeetsThreshold(TextEncoderKind kind, double threshold, TrainingPrecision precision)
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = Data(mlContext);
        var options = new NeuralTextBinaryOptions
        {
            Network = kind == TextEncoderKind.Transformer ? TextEncoder.Transformer(layers: 1, heads: 2, pooling: TextPooling.Mean) : TextEncoder.Lstm(hiddenSize: 32, pooling: TextPooling.Max),
            EmbeddingDimensions = 32,
            Epochs = 4,
            MaxLength = 64,
            LearningRate = 3e-3,
            Precision = precision,
        };
        var watch = Stopwatch.StartNew();
        var model = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(options).Fit(train);
        var trainSeconds = watch.Elapsed.TotalSeconds;
        var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(test));
        output.WriteLine($"{kind} ({precision}): accuracy {metrics.Accuracy:P2}, AUC {metrics.AreaUnderRocCurve:F4}, F1 {metrics.F1Score:F4} on {test.GetRowCount() ?? TextData.Emails.Count / 5} held-out e-mails; training {trainSeconds:F1} s");
        output.WriteLine(string.Join("\n", model.LastTransformer.History.Select(h => h.ToString())));
        Assert.True(metrics.Accuracy >= threshold, $"{kind} accuracy {metrics.Accuracy:P2} is below {threshold:P0}");
    }
}

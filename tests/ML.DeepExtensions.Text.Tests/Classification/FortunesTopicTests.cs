using System.Diagnostics;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Text.Classification;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Text.Tests.Classification;

/// <summary>
/// Real data, multiclass: which of four topics (computers, food, law, sports) a Debian fortune quotation comes from.
/// 400 quotations, a seeded split holding out 25 % (about 25 per topic); macro accuracy is the mean of per-topic
/// recalls, so every topic counts. Chance is 25 %.
/// </summary>
public sealed class FortunesTopicTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Accuracy")]
    public void FortunesTopics_HeldOutMacroAccuracy_IsFarAboveChance()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = TextData.Split(TextData.TopicQuotes, 0.25, seed: 3);
        var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TextData.Quote.Topic))
            .Append(mlContext.MulticlassClassification.Trainers.NeuralTextClassifier(new NeuralTextMulticlassOptions
            {
                Network = TextEncoder.Transformer(layers: 1, heads: 2, pooling: TextPooling.Mean),
                EmbeddingDimensions = 32,
                MaxLength = 64,
                MinFrequency = 1,
                Epochs = 12,
                LearningRate = 3e-3,
                Dropout = 0.2,
            }));
        var watch = Stopwatch.StartNew();
        var model = pipeline.Fit(TextData.Load(mlContext, train));
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(TextData.Load(mlContext, test)));
        output.WriteLine($"Fortunes topics: macro accuracy {metrics.MacroAccuracy:P2}, micro {metrics.MicroAccuracy:P2}, log-loss {metrics.LogLoss:F3} " +
                         $"on {test.Count} held-out quotations ({train.Count} for training, {watch.Elapsed.TotalSeconds:F1} s)");
        output.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());
        Assert.True(metrics.MacroAccuracy >= 0.55, $"macro accuracy {metrics.MacroAccuracy:P2} is below 55 %");
    }
}

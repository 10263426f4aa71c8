using System;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Text.Tests.Classification;
using ML.DeepExtensions.Training;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Text.Tests.Pretrained;

/// <summary>
/// Real data, same splits for both models: all-MiniLM-L6-v2 fine-tuned through NeuralTextClassifier against the best
/// from-scratch text model of this package's own accuracy tests (a 1-layer Transformer with mean pooling, trained on the same
/// rows). Bounded for a 2-core machine: 200 training examples, short texts.
/// </summary>
public sealed class PretrainedBertAccuracyTests(ITestOutputHelper output)
{
    private static NeuralTextMulticlassOptions FromScratch() => new()
    {
        Network = TextEncoder.Transformer(layers: 1, heads: 2, pooling: TextPooling.Mean),
        EmbeddingDimensions = 32,
        MaxLength = 64,
        MinFrequency = 1,
        Epochs = 12,
        LearningRate = 3e-3,
        Dropout = 0.2,
    };

    private static NeuralTextMulticlassOptions MiniLM() => new()
    {
        Network = TextEncoder.PretrainedBert(MiniLMData.MiniLM),
        MaxLength = 64,
        Epochs = 4,
        BatchSize = 16,
        LearningRate = 1e-4,
    };

    // Measured (seed 1, 2-core VM under load): fine-tuned MiniLM 91.03 % macro accuracy (300 s), from scratch 54.56 % (17 s).
    [Fact]
    [Trait("Category", "Accuracy")]
    [Trait("Category", "Slow")]
    public void FortunesTopics_200Examples_FineTunedMiniLM_BeatsFromScratchByAtLeast5Points()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = TextData.Split(TextData.TopicQuotes, 0.25, seed: 3);
        var few = train.Take(200).ToList();
        double Run(NeuralTextMulticlassOptions options, string name)
        {
            var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TextData.Quote.Topic))
                .Append(mlContext.MulticlassClassification.Trainers.NeuralTextClassifier(options));
            var watch = Stopwatch.StartNew();
            var model = pipeline.Fit(TextData.Load(mlContext, few));
            var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(TextData.Load(mlContext, test)));
            output.WriteLine($"{name}: macro accuracy {metrics.MacroAccuracy:P2}, micro {metrics.MicroAccuracy:P2} on {test.Count} held-out quotations, {few.Count} for training, {watch.Elapsed.TotalSeconds:F1} s");
            return metrics.MacroAccuracy;
        }
        var scratch = Run(FromScratch(), "from scratch (Transformer)");
        var pretrained = Run(MiniLM(), "fine-tuned all-MiniLM-L6-v2");
        Assert.True(pretrained >= 0.75, $"fine-tuned MiniLM macro accuracy {pretrained:P2} is below 75 %");
        Assert.True(pretrained >= scratch + 0.05, $"fine-tuned MiniLM {pretrained:P2} does not beat from-scratch {scratch:P2} by 5 points");
    }

    // Fine-tuning in mixed precision (bfloat16 products in the pretrained encoder's training steps, float32 weights and
    // scoring) on the same 200 examples as the float32 run of SpamSubset_FineTunedMiniLM_MeetsThreshold_AndBeatsFromScratch(200, 3, …). Measured (seed 1, 2026-12-03, Zen 4): accuracy 86.67 %,
    // AUC 0.9783 in 40 s against float32's 95.71 %, AUC 0.9824 in 69 s — the ranking survives, the 0.5 threshold's accuracy
    // does not after these 39 steps (README, Limits). The thresholds below are what the mixed run must keep earning.
    [Fact]
    [Trait("Category", "Accuracy")]
    [Trait("Category", "Slow")]
    public void SpamSubset200_FineTunedMiniLM_InMixedBFloat16_KeepsItsRanking()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = TextData.Split(TextData.Emails, 0.2);
        var watch = Stopwatch.StartNew();
        var model = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(new NeuralTextBinaryOptions
        {
            Network = TextEncoder.PretrainedBert(MiniLMData.MiniLM),
            MaxLength = 128,
            Epochs = 3,
            BatchSize = 16,
            LearningRate = 1e-4,
            LengthBucketing = false,
            Precision = TrainingPrecision.MixedBFloat16,
        }).Fit(TextData.Load(mlContext, train.Take(200)));
        var trained = watch.Elapsed.TotalSeconds;
        var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(TextData.Load(mlContext, test)));
        output.WriteLine($"fine-tuned all-MiniLM-L6-v2, mixed bfloat16: accuracy {metrics.Accuracy:P2}, AUC {metrics.AreaUnderRocCurve:F4} on {test.Count} held-out e-mails; training {trained:F1} s");
        Assert.True(metrics.AreaUnderRocCurve >= 0.97, $"fine-tuned MiniLM in mixed precision: AUC {metrics.AreaUnderRocCurve:F4} is below 0.97");
        Assert.True(metrics.Accuracy >= 0.85, $"fine-tuned MiniLM in mixed precision: accuracy {metrics.Accuracy:P2} is below 85 %");
    }

    // Measured (seed 1, 2-core VM under load), uniform batches (LengthBucketing = false, both models): 200 examples — fine-tuned
    // MiniLM 95.71 % (AUC 0.982), from scratch 93.33 % (AUC 0.981); the whole training split (840 e-mails) — fine-tuned 97.62 %
    // (AUC 0.986), from scratch 95.24 % (AUC 0.990). With the default length bucketing the 840-example fine-tuning reached
    // 96.67 % (from scratch 95.71 %): bucketed batches of e-mails of similar length are less random, which costs these few
    // steps of fine-tuning about two e-mails of 210. The 97 % target is asserted for the uniform batches.
    [Theory]
    [Trait("Category", "Accuracy")]
    [Trait("Category", "Slow")]
    [InlineData(200, 3, 0.95)]
    [InlineData(840, 2, 0.97)]
    public void SpamSubset_FineTunedMiniLM_MeetsThreshold_AndBeatsFromScratch(int trainingExamples, int epochs, double threshold)
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = TextData.Split(TextData.Emails, 0.2);
        var few = TextData.Load(mlContext, train.Take(trainingExamples));
        var held = TextData.Load(mlContext, test);
        double Run(NeuralTextBinaryOptions options, string name)
        {
            var watch = Stopwatch.StartNew();
            var model = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(options).Fit(few);
            var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(held));
            output.WriteLine($"{name}: accuracy {metrics.Accuracy:P2}, AUC {metrics.AreaUnderRocCurve:F4}, F1 {metrics.F1Score:F4} on {test.Count} held-out e-mails, " +
                             $"{Math.Min(trainingExamples, train.Count)} for training, {watch.Elapsed.TotalSeconds:F1} s");
            return metrics.Accuracy;
        }
        var scratch = Run(new NeuralTextBinaryOptions
        {
            Network = TextEncoder.Transformer(layers: 1, heads: 2, pooling: TextPooling.Mean),
            EmbeddingDimensions = 32,
            Epochs = 8,
            MaxLength = 64,
            LearningRate = 3e-3,
            LengthBucketing = false,
        }, "from scratch (Transformer)");
        var pretrained = Run(new NeuralTextBinaryOptions
        {
            Network = TextEncoder.PretrainedBert(MiniLMData.MiniLM),
            MaxLength = 128,
            Epochs = epochs,
            BatchSize = 16,
            LearningRate = 1e-4,
            LengthBucketing = false,
        }, "fine-tuned all-MiniLM-L6-v2");
        Assert.True(pretrained >= threshold, $"fine-tuned MiniLM accuracy {pretrained:P2} is below {threshold:P0} (from scratch: {scratch:P2})");
        Assert.True(pretrained > scratch, $"fine-tuned MiniLM {pretrained:P2} does not beat from scratch {scratch:P2}");
    }
}

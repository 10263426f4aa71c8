using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Detection;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Detection;

public sealed class SsdTests(ITestOutputHelper output)
{
    private static readonly string[] FourClasses = ["Trouser", "Bag", "Sneaker", "T-shirt"];

    private static DetectionTestData.Row[] Canvases(string split, int count, int seed)
        => DetectionTestData.Rows(DetectionTestData.Canvases.Generate(split, count, seed, FourClasses)).ToArray();

    [Fact]
    public void Priors_ThreeMapsFourBoxesEach_CentredWithTheirScales()
    {
        using var scope = NewDisposeScope();
        var priors = SsdGeometry.Priors(128, CPU);
        Assert.Equal(new long[] { (16 * 16 + 8 * 8 + 4 * 4) * 4, 4 }, priors.shape);
        Assert.Equal(SsdGeometry.PriorCount(128), priors.shape[0]);
        // First location of the stride-8 map: centre (4, 4); side 16 (1:1), 16√2 × 16/√2 (2:1), then the extra square √(16·32).
        var first = priors[..4].data<float>().ToArray();
        Assert.Equal(new[] { -4f, -4, 12, 12 }, first[..4], new Tolerance(1e-4f));
        Assert.Equal(16 * MathF.Sqrt(2), first[6] - first[4], 3);
        Assert.Equal(MathF.Sqrt(16 * 32), first[14] - first[12], 3);
        // Last box: last cell of the stride-32 map, centre (112, 112), extra square √(64·96).
        var last = priors[^1].data<float>().ToArray();
        Assert.Equal(112f, (last[0] + last[2]) / 2, 3);
        Assert.Equal(MathF.Sqrt(64 * 96), last[2] - last[0], 3);
    }

    [Fact]
    public void Loss_PerfectPrediction_IsZero_AndUnitOffsetErrorsCostTwoPerPositive()
    {
        // One true box equal to a default box: predicting its exact offsets gives zero localisation loss, and confident logits
        // (positive: its class, the rest: background) give nearly zero classification loss; wrong offsets raise it.
        using var scope = NewDisposeScope();
        var priors = SsdGeometry.Priors(64, CPU);
        var p = (int)priors.shape[0];
        var truth = priors[5].clone();
        var batch = new ML.DeepExtensions.Training.Batch(zeros(1, 3, 64, 64), tensor(new long[] { 1 }), new Dictionary<string, Tensor>
        {
            [DetectionBatchSource.BoxesKey] = truth.view(1, 1, 4),
            [DetectionBatchSource.ClassesKey] = tensor(new long[] { 1 }, [1, 1]),
            [DetectionBatchSource.MaskKey] = ones(1, 1),
        });
        var iou = FasterRcnnGeometry.BatchedIou(priors, truth.view(1, 1, 4)).view(-1);
        var positive = iou.ge(0.5);
        positive[5] = tensor(true);
        var offsets = FasterRcnnGeometry.Encode(truth.expand(p, 4), priors, FasterRcnnGeometry.HeadWeights);
        var logits = full(p, 3, -20f);
        logits[.., 0] = torch.where(positive, tensor(-20f), tensor(20f));
        logits[.., 2] = torch.where(positive, tensor(20f), tensor(-20f));
        var perfect = cat([offsets, logits], 1).unsqueeze(0);
        var loss = SsdLoss.Loss(perfect, batch, 2, 64).item<float>();
        Assert.InRange(loss, 0, 1e-5);
        var shifted = cat([offsets + 1, logits], 1).unsqueeze(0);
        // Each positive's four offsets are off by 1 → smooth L1 0.5 each → 2 per positive, averaged over positives.
        Assert.Equal(2, SsdLoss.Loss(shifted, batch, 2, 64).item<float>(), 3);
    }

    [Fact]
    public void Options_SsdImageSizeNotMultipleOf32_Throws()
    {
        var ml = new MLContext();
        Assert.Equal("ImageSize", Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions { ImageSize = 104, Architecture = new SsdParameters() })).ParamName);
    }

    [Theory]
    [Trait("Category", "Accuracy")]
    [InlineData(TrainingPrecision.Float32)]
    [InlineData(TrainingPrecision.MixedBFloat16)]
    public void Canvases_Ssd_EarnsMeanAveragePrecision(TrainingPrecision precision)
    {
        var ml = new MLContext(seed: 7);
        var train = DetectionTestData.Load(ml, Canvases("train", AccuracyTrainCanvases, 10));
        var test = DetectionTestData.Load(ml, Canvases("test", 100, 20));
        var keys = DetectionTestData.Keys(ml, train);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var model = ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions
        {
            Epochs = AccuracyEpochs,
            BatchSize = 16,
            LearningRate = 2e-3,
            Schedule = LearningRateSchedule.Cosine(),
            ScoreThreshold = 0.05,
            Architecture = new SsdParameters(),
            ValidationSet = keys.Transform(test),
            Precision = precision,
        }).Fit(keys.Transform(train));
        var metrics = ml.MulticlassClassification.EvaluateDetections(model.Transform(keys.Transform(test)));
        output.WriteLine($"{precision}: {metrics} in {clock.Elapsed.TotalSeconds:F0} s; epochs: " +
                         string.Join(" | ", model.History.Select(h => $"{h.Epoch}: loss {h.Training["Loss"]:F3} val mAP50 {h.Validation["MeanAveragePrecision50"]:F3}")));
        Assert.Equal(model.History[^1].Validation["MeanAveragePrecision50"], metrics.MeanAveragePrecision50, 2);
        Assert.True(metrics.MeanAveragePrecision50 >= AccuracyThreshold, $"mAP@0.5 {metrics.MeanAveragePrecision50:F3} < {AccuracyThreshold}");
    }

    private const int AccuracyTrainCanvases = 320;
    private const int AccuracyEpochs = 8;
    private const double AccuracyThreshold = 0.8;

    private sealed class Tolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}

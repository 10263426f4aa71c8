using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Detection;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Detection;

public sealed class FasterRcnnTests(ITestOutputHelper output)
{
    private static readonly string[] FourClasses = ["Trouser", "Bag", "Sneaker", "T-shirt"];

    private static DetectionTestData.Row[] Canvases(string split, int count, int seed)
        => DetectionTestData.Rows(DetectionTestData.Canvases.Generate(split, count, seed, FourClasses)).ToArray();

    [Fact]
    public void Geometry_EncodeThenDecode_GivesTheBoxesBack()
    {
        using var scope = NewDisposeScope();
        var reference = tensor(new float[] { 10, 10, 30, 50, 0, 0, 8, 8 }, [2, 4]);
        var boxes = tensor(new float[] { 12, 5, 40, 45, 1, 2, 5, 9 }, [2, 4]);
        foreach (var weights in new[] { FasterRcnnGeometry.RpnWeights, FasterRcnnGeometry.HeadWeights })
        {
            var deltas = FasterRcnnGeometry.Encode(boxes, reference, weights);
            var back = FasterRcnnGeometry.Decode(deltas, reference, weights);
            Assert.True(back.allclose(boxes, rtol: 0, atol: 1e-4));
        }
        // Hand value: the same box gives zero deltas; a box twice as wide gives dw = log 2 (weight 1).
        var same = FasterRcnnGeometry.Encode(reference, reference, FasterRcnnGeometry.RpnWeights);
        Assert.Equal(0, same.abs().max().item<float>(), 6);
        var wider = FasterRcnnGeometry.Encode(tensor(new float[] { 0, 10, 40, 50 }, [1, 4]), reference[..1], FasterRcnnGeometry.RpnWeights);
        Assert.Equal(new[] { 0, 0, MathF.Log(2), 0 }, wider.data<float>().ToArray(), new Tolerance(1e-6f));
    }

    [Fact]
    public void Anchors_AreCentredOnCellsWithTheirSizesAndRatios()
    {
        using var scope = NewDisposeScope();
        var anchors = FasterRcnnGeometry.Anchors(32, CPU);
        Assert.Equal(new long[] { 4 * 4 * 9, 4 }, anchors.shape);
        var first = anchors[..9];
        var centres = ((first[.., 0] + first[.., 2]) / 2).data<float>().ToArray();
        Assert.All(centres, c => Assert.Equal(4f, c, 5));
        var areas = ((first[.., 2] - first[.., 0]) * (first[.., 3] - first[.., 1])).data<float>().ToArray();
        Assert.Equal(new[] { 256f, 1024, 4096, 256, 1024, 4096, 256, 1024, 4096 }, areas, new Tolerance(1e-2f));
        // The last anchor sits on the last cell's centre (28, 28), ratio 2: height 2× width.
        var last = anchors[^1].data<float>().ToArray();
        Assert.Equal(28f, (last[0] + last[2]) / 2, 4);
        Assert.Equal(2f, (last[3] - last[1]) / (last[2] - last[0]), 4);
    }

    [Fact]
    public void Sample_TakesAtMostTheQuotaOfPositivesAndFillsWithNegatives_Seeded()
    {
        using var scope = NewDisposeScope();
        var positive = zeros(new long[] { 2, 100 }, ScalarType.Bool);
        positive[0, ..30] = tensor(true);
        positive[1, ..3] = tensor(true);
        var negative = positive.logical_not();
        using var g1 = new Generator(5);
        var (p, n) = FasterRcnnGeometry.Sample(positive, negative, 20, 0.25, g1);
        Assert.Equal(new long[] { 5, 3 }, p.sum(1).data<long>().ToArray());
        Assert.Equal(new long[] { 15, 17 }, n.sum(1).data<long>().ToArray());
        Assert.False(p.logical_and(negative).any().item<bool>());
        Assert.False(n.logical_and(positive).any().item<bool>());
        using var g2 = new Generator(5);
        var (p2, _) = FasterRcnnGeometry.Sample(positive, negative, 20, 0.25, g2);
        Assert.True(p.eq(p2).all().item<bool>());
        using var g3 = new Generator(6);
        var (p3, _) = FasterRcnnGeometry.Sample(positive, negative, 20, 0.25, g3);
        Assert.False(p.eq(p3).all().item<bool>());
    }

    [Fact]
    public void Head_InTraining_TrueBoxesJoinTheSampledRegions_InEvaluation_TheyAreAbsent()
    {
        using var scope = NewDisposeScope();
        const int classes = 2, proposals = 16, size = 128;
        var anchors = FasterRcnnGeometry.AnchorCount(size);
        var head = (FasterRcnnModule)new FasterRcnnHeadLayer(classes, proposals, 32).Build([8, size / 8, size / 8], null!);
        using var network = nn.Sequential(("normalize", nn.Identity()), ("head", head));
        var features = randn(2, 8, size / 8, size / 8, generator: new Generator(1));
        var truth = tensor(new float[] { 10, 12, 40, 50, 60, 60, 100, 90, 20, 30, 52, 70, 0, 0, 0, 0 }, [2, 2, 4]);
        var mask = tensor(new float[] { 1, 1, 1, 0 }, [2, 2]);
        using var batch = new Batch(features, tensor(new long[] { 2, 1 }), new System.Collections.Generic.Dictionary<string, Tensor>
        {
            [DetectionBatchSource.BoxesKey] = truth,
            [DetectionBatchSource.ClassesKey] = tensor(new long[] { 0, 1, 1, 0 }, [2, 2]),
            [DetectionBatchSource.MaskKey] = mask,
        });
        var objective = new DetectionObjective(classes, size, new DetectionDecoding(1e-6, 1, 1000), DetectionArchitectures.FasterRcnnName);

        // Training: the objective hands the true boxes to the head, which appends one row per true box after the proposals.
        network.train();
        var trained = objective.TrainingOutput(network, features, batch);
        Assert.Equal(new long[] { 2, anchors + proposals + 2, FasterRcnnGeometry.RowWidth(classes) }, trained.shape);
        var appended = trained[.., (anchors + proposals)..];
        Assert.Equal(truth.data<float>().ToArray(), appended[.., .., ..4].data<float>().ToArray());
        Assert.Equal(new[] { 2f, 2, 2, 0 }, appended[.., .., 4].data<float>().ToArray());
        // The box head samples each real true box as foreground of its own box (IoU 1), the padding row not at all.
        var rows = trained[.., anchors..];
        using var generator = new Generator(5);
        var (_, takenForeground, takenBackground, matched) = FasterRcnnLoss.SampleHead(rows[.., .., ..4], rows[.., .., 4].gt(0.5), truth, mask.gt(0), generator);
        Assert.Equal(new[] { true, true, true, false }, takenForeground[.., proposals..].data<bool>().ToArray());
        Assert.False(takenBackground[.., proposals..].any().item<bool>());
        Assert.Equal(new long[] { 0, 1, 0 }, new[] { matched[0, proposals].item<long>(), matched[0, proposals + 1].item<long>(), matched[1, proposals].item<long>() });
        // They are not predictions: decoding the training output ignores them.
        var decoding = new DetectionDecoding(1e-6, 1, 1000);
        var withTruth = DetectionDecoder.Decode(trained, size, decoding, DetectionArchitectures.FasterRcnnName);
        var withoutTruth = DetectionDecoder.Decode(trained[.., ..(anchors + proposals)], size, decoding, DetectionArchitectures.FasterRcnnName);
        Assert.Equal(proposals * classes, withoutTruth[0].Scores.Length);
        Assert.Equal(withoutTruth.Select(d => d.Boxes), withTruth.Select(d => d.Boxes));

        // Evaluation (validation and scoring): the same call ignores the true boxes and equals the plain forward pass.
        network.eval();
        var evaluated = head.ForwardWithTargets(network, features, truth, mask);
        Assert.Equal(new long[] { 2, anchors + proposals, FasterRcnnGeometry.RowWidth(classes) }, evaluated.shape);
        Assert.False(evaluated[.., anchors.., 4].eq(FasterRcnnGeometry.TrueBoxRow).any().item<bool>());
        Assert.True(evaluated.eq(network.forward(features)).all().item<bool>());
        // And after a training step the head has forgotten them: a plain training-mode forward has no true-box rows.
        network.train();
        Assert.Equal(anchors + proposals, network.forward(features).shape[1]);
    }

    [Theory]
    [Trait("Category", "Accuracy")]
    [InlineData(TrainingPrecision.Float32)]
    [InlineData(TrainingPrecision.MixedBFloat16)]
    public void Canvases_FasterRcnn_EarnsMeanAveragePrecision(TrainingPrecision precision)
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
            Architecture = new FasterRcnnParameters(),
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
    private const int AccuracyEpochs = 5;
    // Measured 0.597 with the true boxes among the box head's regions (0.461 without them, same run settings; see
    // docs/detection.md); the single-stage detector's 0.8 is not reached by this two-stage model in the CI budget.
    private const double AccuracyThreshold = 0.5;

    private sealed class Tolerance(float tolerance) : System.Collections.Generic.IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}

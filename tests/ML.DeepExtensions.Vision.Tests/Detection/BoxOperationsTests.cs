using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using ML.DeepExtensions.Vision.Detection;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Detection;

public sealed class BoxOperationsTests
{
    [Fact]
    public void Iou_HandCases_MatchArithmetic()
    {
        using var a = tensor(new float[] { 0, 0, 2, 2, 0, 0, 1, 1 }, [2, 4]);
        using var b = tensor(new float[] { 1, 1, 3, 3, 5, 5, 6, 6, 0, 0, 2, 2 }, [3, 4]);
        using var iou = BoxOperations.Iou(a, b);
        var v = iou.data<float>().ToArray();
        // (0,0,2,2) vs (1,1,3,3): 1 / 7; vs a far box: 0; vs itself: 1. (0,0,1,1) vs (0,0,2,2): 1 / 4.
        Assert.Equal(new[] { 1f / 7, 0, 1, 0, 0, 0.25f }, v, new FloatComparer(1e-6f));
    }

    [Fact]
    public void GeneralizedIou_HandCases_MatchArithmetic()
    {
        using var a = tensor(new float[] { 0, 0, 2, 2 }, [1, 4]);
        using var b = tensor(new float[] { 1, 1, 3, 3, 3, 0, 4, 1, 0, 0, 2, 2 }, [3, 4]);
        using var giou = BoxOperations.GeneralizedIou(a, b);
        var v = giou.data<float>().ToArray();
        // Overlap: IoU 1/7, hull 9, union 7 → 1/7 − 2/9. Disjoint (0,0,2,2)/(3,0,4,1): IoU 0, hull 8, union 5 → −3/8. Same box: 1.
        Assert.Equal(new[] { 1f / 7 - 2f / 9, -3f / 8, 1 }, v, new FloatComparer(1e-6f));
        using var pairwise = BoxOperations.ElementwiseGeneralizedIou(a.expand(3, 4), b);
        Assert.Equal(v, pairwise.data<float>().ToArray(), new FloatComparer(1e-6f));
    }

    [Fact]
    public void Nms_BadShapes_ThrowNamingTheArgument()
    {
        using var boxes = zeros(3, 5);
        using var scores = zeros(3);
        Assert.Equal("boxes", Assert.Throws<ArgumentException>(() => BoxOperations.Nms(boxes, scores, 0.5)).ParamName);
        using var good = zeros(3, 4);
        using var twoScores = zeros(2);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => BoxOperations.Nms(good, twoScores, 0.5)).ParamName);
        using var empty = zeros(0, 4);
        using var noScores = zeros(0);
        Assert.Empty(BoxOperations.Nms(empty, noScores, 0.5));
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void NmsAndBatchedNms_RandomBoxes_KeepWhatTorchvisionKeeps()
    {
        var random = new Random(11);
        var cases = Enumerable.Range(0, 6).Select(c =>
        {
            var n = c == 0 ? 1000 : random.Next(5, 400);
            var boxes = new float[n * 4];
            for (var i = 0; i < n; i++)
            {
                var (x, y) = (random.NextSingle() * 200, random.NextSingle() * 200);
                var (w, h) = (1 + random.NextSingle() * 60, 1 + random.NextSingle() * 60);
                (boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]) = (x, y, x + w, y + h);
            }
            var scores = Enumerable.Range(0, n).Select(_ => random.NextSingle()).ToArray();
            var classes = Enumerable.Range(0, n).Select(_ => (long)random.Next(4)).ToArray();
            var threshold = new[] { 0.3, 0.5, 0.7 }[c % 3];
            return new NmsCase(boxes, scores, classes, threshold);
        }).ToArray();
        var input = Path.Combine(Path.GetTempPath(), $"nms-{Guid.NewGuid():N}.json");
        File.WriteAllText(input, JsonSerializer.Serialize(cases));
        try
        {
            const string script = """
                import json, sys, torch, torchvision
                out = []
                for c in json.load(open(sys.argv[1])):
                    b = torch.tensor(c['Boxes'], dtype=torch.float32).view(-1, 4)
                    s = torch.tensor(c['Scores'], dtype=torch.float32)
                    k = torch.tensor(c['Classes'], dtype=torch.int64)
                    out.append({'nms': torchvision.ops.nms(b, s, c['Threshold']).tolist(),
                                'batched': torchvision.ops.batched_nms(b, s, k, c['Threshold']).tolist()})
                print(json.dumps(out))
                """;
            var expected = JsonSerializer.Deserialize<JsonElement>(DetectionReference.Run(script, input));
            for (var i = 0; i < cases.Length; i++)
            {
                var c = cases[i];
                using var boxes = tensor(c.Boxes, [c.Scores.Length, 4]);
                using var scores = tensor(c.Scores);
                using var classes = tensor(c.Classes);
                Assert.Equal(expected[i].GetProperty("nms").EnumerateArray().Select(e => e.GetInt64()), BoxOperations.Nms(boxes, scores, c.Threshold));
                Assert.Equal(expected[i].GetProperty("batched").EnumerateArray().Select(e => e.GetInt64()), BoxOperations.BatchedNms(boxes, scores, classes, c.Threshold));
            }
        }
        finally
        {
            File.Delete(input);
        }
    }

    public sealed record NmsCase(float[] Boxes, float[] Scores, long[] Classes, double Threshold);

    private sealed class FloatComparer(float tolerance) : System.Collections.Generic.IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}

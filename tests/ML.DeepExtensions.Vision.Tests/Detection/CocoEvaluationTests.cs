using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Vision.Detection;
using Xunit;

namespace ML.DeepExtensions.Vision.Tests.Detection;

public sealed class CocoEvaluationTests
{
    [Fact]
    public void Evaluate_PerfectDetections_GiveOne()
    {
        var image = new DetectionImage([0, 0, 10, 10, 20, 20, 40, 40, 5, 5, 15, 30], [0, 0, 1], [0, 0, 10, 10, 20, 20, 40, 40, 5, 5, 15, 30], [0, 0, 1], [0.9f, 0.8f, 0.7f]);
        var metrics = CocoEvaluation.Evaluate([image], 3);
        Assert.Equal(1, metrics.MeanAveragePrecision, 12);
        Assert.Equal(1, metrics.MeanAveragePrecision50, 12);
        Assert.True(double.IsNaN(metrics.PerClassAveragePrecision[2]), "a class without true objects has no AP");
    }

    [Fact]
    public void Evaluate_HigherScoredFalsePositive_HalvesPrecision()
    {
        // Ranked: a miss (precision 0 at recall 0), then the hit (precision 1/2 at recall 1); interpolated: 1/2 everywhere.
        var image = new DetectionImage([0, 0, 10, 10], [0], [50, 50, 60, 60, 0, 0, 10, 10], [0, 0], [0.9f, 0.5f]);
        var metrics = CocoEvaluation.Evaluate([image], 1);
        Assert.Equal(0.5, metrics.MeanAveragePrecision50, 12);
        Assert.Equal(0.5, metrics.MeanAveragePrecision, 12);
    }

    [Fact]
    public void Evaluate_BoxOfIou062_CountsAtThreeOfTenThresholds()
    {
        var image = new DetectionImage([0, 0, 10, 10], [0], [0, 0, 10, 6.2f], [0], [0.9f]);
        var metrics = CocoEvaluation.Evaluate([image], 1);
        Assert.Equal(1, metrics.MeanAveragePrecision50, 12);
        Assert.Equal(0.3, metrics.MeanAveragePrecision, 6);
        Assert.Equal(0, metrics.MeanAveragePrecision75, 12);
    }

    [Fact]
    public void Evaluate_DuplicateDetection_IsAFalsePositive()
    {
        // The second box on the same object finds it matched: a false positive ranked after the hit, so AP stays 1.
        var image = new DetectionImage([0, 0, 10, 10], [0], [0, 0, 10, 10, 0, 0, 10, 10], [0, 0], [0.9f, 0.8f]);
        Assert.Equal(1, CocoEvaluation.Evaluate([image], 1).MeanAveragePrecision50, 12);
        var reversed = new DetectionImage([0, 0, 10, 10, 30, 30, 40, 40], [0, 0], [0, 0, 10, 10, 0, 0, 10, 10], [0, 0], [0.9f, 0.8f]);
        // Two objects, one found: recall never passes 1/2, so 51 of the 101 recall points read precision 1.
        Assert.Equal(51.0 / 101, CocoEvaluation.Evaluate([reversed], 1).MeanAveragePrecision50, 12);
    }

    [Fact]
    public void EvaluateDetections_RowWithBadBoxCount_ThrowsNamingRowAndColumn()
    {
        var ml = new MLContext(seed: 1);
        var rows = new[] { new ScoredRow { Label = [1], Box = [0, 0, 1], PredictedLabel = [], Score = [], PredictedBoundingBoxes = [] } };
        var data = ml.Data.LoadFromEnumerable(rows, SchemaDefinition());
        var error = Assert.Throws<InvalidDataException>(() => ml.MulticlassClassification.EvaluateDetections(data));
        Assert.Contains("Row 0", error.Message);
        Assert.Contains("'Box'", error.Message);
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.EvaluateDetections(data, boxColumnName: "Boxes"));
        Assert.Contains("'Boxes'", missing.Message);
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void Evaluate_RandomCase_EqualsAReferenceCocoComputation()
    {
        var random = new Random(5);
        var images = Enumerable.Range(0, 8).Select(_ =>
        {
            var truths = random.Next(0, 5);
            var trueBoxes = new float[truths * 4];
            var trueClasses = new int[truths];
            var boxes = new System.Collections.Generic.List<float>();
            var classes = new System.Collections.Generic.List<int>();
            var scores = new System.Collections.Generic.List<float>();
            for (var t = 0; t < truths; t++)
            {
                var (x, y, w, h) = (random.Next(0, 80), random.Next(0, 80), random.Next(5, 40), random.Next(5, 40));
                (trueBoxes[4 * t], trueBoxes[4 * t + 1], trueBoxes[4 * t + 2], trueBoxes[4 * t + 3]) = (x, y, x + w, y + h);
                trueClasses[t] = random.Next(3);
                // Zero to two noisy detections per object, some with the wrong class.
                for (var d = random.Next(3); d > 0; d--)
                {
                    var jitter = () => (float)(random.NextDouble() * 8 - 4);
                    boxes.AddRange([x + jitter(), y + jitter(), x + w + jitter(), y + h + jitter()]);
                    classes.Add(random.NextDouble() < 0.8 ? trueClasses[t] : random.Next(3));
                    scores.Add((float)random.NextDouble());
                }
            }
            for (var f = random.Next(3); f > 0; f--)
            {
                var (x, y) = (random.Next(0, 90), random.Next(0, 90));
                boxes.AddRange([x, y, x + random.Next(5, 30), y + random.Next(5, 30)]);
                classes.Add(random.Next(3));
                scores.Add((float)random.NextDouble());
            }
            return new DetectionImage(trueBoxes, trueClasses, boxes.ToArray(), classes.ToArray(), scores.ToArray());
        }).ToArray();
        var input = Path.Combine(Path.GetTempPath(), $"coco-{Guid.NewGuid():N}.json");
        File.WriteAllText(input, JsonSerializer.Serialize(images));
        try
        {
            // A compact re-implementation of pycocotools' COCOeval (evaluateImg + accumulate) for boxes, area "all", maxDets 100.
            const string script = """
                import json, sys
                import numpy as np
                imgs = json.load(open(sys.argv[1]))
                thr = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
                rec_thr = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
                def iou(d, g):
                    d = np.array(d, dtype=np.float64).reshape(-1, 4); g = np.array(g, dtype=np.float64).reshape(-1, 4)
                    out = np.zeros((len(d), len(g)))
                    for i in range(len(d)):
                        for j in range(len(g)):
                            w = min(d[i,2], g[j,2]) - max(d[i,0], g[j,0]); h = min(d[i,3], g[j,3]) - max(d[i,1], g[j,1])
                            if w <= 0 or h <= 0: continue
                            inter = w * h
                            out[i, j] = inter / ((d[i,2]-d[i,0])*(d[i,3]-d[i,1]) + (g[j,2]-g[j,0])*(g[j,3]-g[j,1]) - inter)
                    return out
                ap = {}
                for c in range(3):
                    npos = sum(sum(1 for k in im['TrueClasses'] if k == c) for im in imgs)
                    if npos == 0: continue
                    res = []
                    for t in thr:
                        scores, tps = [], []
                        for im in imgs:
                            gi = [j for j, k in enumerate(im['TrueClasses']) if k == c]
                            di = [j for j, k in enumerate(im['Classes']) if k == c]
                            ds = np.array([im['Scores'][j] for j in di], dtype=np.float32)
                            order = np.argsort(-ds, kind='mergesort')[:100]
                            di = [di[o] for o in order]
                            g = [im['TrueBoxes'][4*j:4*j+4] for j in gi]; d = [im['Boxes'][4*j:4*j+4] for j in di]
                            ious = iou(d, g); used = [False] * len(gi)
                            for a in range(len(di)):
                                best = min([t, 1 - 1e-10]); m = -1
                                for b in range(len(gi)):
                                    if used[b]: continue
                                    if ious[a, b] < best: continue
                                    best = ious[a, b]; m = b
                                if m > -1: used[m] = True
                                scores.append(im['Scores'][di[a]]); tps.append(m > -1)
                        scores = np.array(scores, dtype=np.float32); tps = np.array(tps)
                        inds = np.argsort(-scores, kind='mergesort'); tps = tps[inds]
                        tp = np.cumsum(tps).astype(float); fp = np.cumsum(~tps).astype(float)
                        rc = tp / npos; pr = (tp / (fp + tp + np.spacing(1))).tolist()
                        for i in range(len(pr) - 1, 0, -1):
                            if pr[i] > pr[i-1]: pr[i-1] = pr[i]
                        q = np.zeros((len(rec_thr),))
                        idx = np.searchsorted(rc, rec_thr, side='left')
                        for ri, pi in enumerate(idx):
                            if pi < len(pr): q[ri] = pr[pi]
                        res.append(np.mean(q))
                    ap[c] = res
                print(json.dumps({'map': float(np.mean([np.mean(v) for v in ap.values()])), 'map50': float(np.mean([v[0] for v in ap.values()])),
                                  'per_class': {str(k): float(np.mean(v)) for k, v in ap.items()}}))
                """;
            var expected = JsonSerializer.Deserialize<JsonElement>(DetectionReference.Run(script, input));
            var metrics = CocoEvaluation.Evaluate(images, 3);
            Assert.Equal(expected.GetProperty("map").GetDouble(), metrics.MeanAveragePrecision, 9);
            Assert.Equal(expected.GetProperty("map50").GetDouble(), metrics.MeanAveragePrecision50, 9);
            foreach (var entry in expected.GetProperty("per_class").EnumerateObject())
                Assert.Equal(entry.Value.GetDouble(), metrics.PerClassAveragePrecision[int.Parse(entry.Name, System.Globalization.CultureInfo.InvariantCulture)], 9);
        }
        finally
        {
            File.Delete(input);
        }
    }

    private static SchemaDefinition SchemaDefinition()
    {
        var schema = Microsoft.ML.Data.SchemaDefinition.Create(typeof(ScoredRow));
        schema[nameof(ScoredRow.Label)].ColumnType = new VectorDataViewType(new KeyDataViewType(typeof(uint), 3));
        schema[nameof(ScoredRow.PredictedLabel)].ColumnType = new VectorDataViewType(new KeyDataViewType(typeof(uint), 3));
        return schema;
    }

    private sealed class ScoredRow
    {
        public uint[] Label { get; set; } = [];
        public float[] Box { get; set; } = [];
        public uint[] PredictedLabel { get; set; } = [];
        public float[] Score { get; set; } = [];
        public float[] PredictedBoundingBoxes { get; set; } = [];
    }
}

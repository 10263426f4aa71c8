using System;
using System.Collections.Generic;
using System.Linq;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>One image's true objects and detections: boxes x0, y0, x1, y1 (4 values each), zero-based classes, scores.</summary>
internal sealed record DetectionImage(float[] TrueBoxes, int[] TrueClasses, float[] Boxes, int[] Classes, float[] Scores);

/// <summary>
/// Detection quality by the COCO definition (pycocotools' <c>COCOeval</c> for boxes, area range "all", 100 detections per
/// image and class): per class and IoU threshold 0.50, 0.55, …, 0.95, each image's detections are matched in descending
/// score order to the unmatched true box of highest IoU at or above the threshold; detections of all images are then ranked
/// by score, precision is made monotone and read at 101 recall points (0, 0.01, …, 1) and averaged. A class's AP is the mean
/// over thresholds; classes without true objects are left out of the means.
/// </summary>
public sealed class DetectionMetrics
{
    internal DetectionMetrics(double map, double map50, double map75, IReadOnlyList<double> perClass, IReadOnlyList<double> perClass50)
    {
        MeanAveragePrecision = map;
        MeanAveragePrecision50 = map50;
        MeanAveragePrecision75 = map75;
        PerClassAveragePrecision = perClass;
        PerClassAveragePrecision50 = perClass50;
    }

    /// <summary>COCO's AP: mean over classes of the AP averaged over IoU thresholds 0.50:0.05:0.95 (mAP@0.5:0.95).</summary>
    public double MeanAveragePrecision { get; }

    /// <summary>Mean over classes of the AP at IoU 0.5 (mAP@0.5, PASCAL-style threshold with COCO's 101-point interpolation).</summary>
    public double MeanAveragePrecision50 { get; }

    /// <summary>Mean over classes of the AP at IoU 0.75.</summary>
    public double MeanAveragePrecision75 { get; }

    /// <summary>AP (IoU 0.50:0.95) per class in key order; NaN for a class without true objects.</summary>
    public IReadOnlyList<double> PerClassAveragePrecision { get; }

    /// <summary>AP at IoU 0.5 per class in key order; NaN for a class without true objects.</summary>
    public IReadOnlyList<double> PerClassAveragePrecision50 { get; }

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"mAP@0.5:0.95={MeanAveragePrecision:F4} mAP@0.5={MeanAveragePrecision50:F4} mAP@0.75={MeanAveragePrecision75:F4}");
}

/// <summary>The COCO box evaluation (see <see cref="DetectionMetrics"/>).</summary>
internal static class CocoEvaluation
{
    private const int MaxDetections = 100;
    private static readonly double[] Thresholds = Enumerable.Range(0, 10).Select(i => 0.5 + 0.05 * i).ToArray();

    public static DetectionMetrics Evaluate(IReadOnlyList<DetectionImage> images, int classes)
    {
        var ap = new double[classes, Thresholds.Length];
        var present = new bool[classes];
        for (var c = 0; c < classes; c++)
        {
            var trueCount = images.Sum(im => im.TrueClasses.Count(k => k == c));
            if (trueCount == 0)
                continue;
            present[c] = true;
            for (var t = 0; t < Thresholds.Length; t++)
                ap[c, t] = AveragePrecision(images, c, Thresholds[t], trueCount);
        }
        var perClass = Enumerable.Range(0, classes).Select(c => present[c] ? Enumerable.Range(0, Thresholds.Length).Average(t => ap[c, t]) : double.NaN).ToArray();
        var perClass50 = Enumerable.Range(0, classes).Select(c => present[c] ? ap[c, 0] : double.NaN).ToArray();
        double Mean(Func<int, double> f) => present.Any(p => p) ? Enumerable.Range(0, classes).Where(c => present[c]).Average(f) : double.NaN;
        return new DetectionMetrics(Mean(c => perClass[c]), Mean(c => ap[c, 0]), Mean(c => ap[c, 5]), perClass, perClass50);
    }

    private static double AveragePrecision(IReadOnlyList<DetectionImage> images, int c, double threshold, int trueCount)
    {
        var matched = new List<(float Score, bool TruePositive)>();
        foreach (var image in images)
        {
            var truths = Enumerable.Range(0, image.TrueClasses.Length).Where(i => image.TrueClasses[i] == c).ToArray();
            // Stable descending sort by score (numpy's mergesort on −score), at most 100 per image and class.
            var detections = Enumerable.Range(0, image.Classes.Length).Where(i => image.Classes[i] == c)
                .OrderByDescending(i => image.Scores[i]).Take(MaxDetections).ToArray();
            var used = new bool[truths.Length];
            foreach (var d in detections)
            {
                var best = Math.Min(threshold, 1 - 1e-10);
                var match = -1;
                for (var g = 0; g < truths.Length; g++)
                {
                    if (used[g])
                        continue;
                    var iou = Iou(image.Boxes, d, image.TrueBoxes, truths[g]);
                    if (iou < best)
                        continue;
                    best = iou;
                    match = g;
                }
                if (match >= 0)
                    used[match] = true;
                matched.Add((image.Scores[d], match >= 0));
            }
        }
        var ranked = matched.Select((m, i) => (m, i)).OrderByDescending(x => x.m.Score).ThenBy(x => x.i).Select(x => x.m).ToArray();
        var recall = new double[ranked.Length];
        var precision = new double[ranked.Length];
        double tp = 0, fp = 0;
        for (var i = 0; i < ranked.Length; i++)
        {
            if (ranked[i].TruePositive)
                tp++;
            else
                fp++;
            recall[i] = tp / trueCount;
            precision[i] = tp / (tp + fp + 2.220446049250313e-16); // numpy.spacing(1), as COCOeval
        }
        for (var i = ranked.Length - 1; i > 0; i--)
            precision[i - 1] = Math.Max(precision[i - 1], precision[i]);
        double sum = 0;
        var at = 0;
        for (var r = 0; r <= 100; r++)
        {
            var level = r / 100.0;
            // searchsorted(recall, level, side='left'): the first index whose recall ≥ level (recall never decreases).
            while (at < recall.Length && recall[at] < level)
                at++;
            if (at < recall.Length)
                sum += precision[at];
        }
        return sum / 101;
    }

    private static double Iou(float[] boxes, int i, float[] truths, int j)
    {
        double ax0 = boxes[4 * i], ay0 = boxes[4 * i + 1], ax1 = boxes[4 * i + 2], ay1 = boxes[4 * i + 3];
        double bx0 = truths[4 * j], by0 = truths[4 * j + 1], bx1 = truths[4 * j + 2], by1 = truths[4 * j + 3];
        var w = Math.Min(ax1, bx1) - Math.Max(ax0, bx0);
        var h = Math.Min(ay1, by1) - Math.Max(ay0, by0);
        if (w <= 0 || h <= 0)
            return 0;
        var inter = w * h;
        var union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter;
        return union <= 0 ? 0 : inter / union;
    }
}

using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>
/// Box operations on tensors of boxes <c>(x0, y0, x1, y1)</c>, one box per row: IoU, generalized IoU and non-maximum
/// suppression. NMS sorts on the boxes' device, copies the sorted boxes to the CPU once and runs a tight greedy loop
/// there (torchvision's CPU kernel), instead of a host synchronisation per kept box; batched NMS suppresses only within
/// a class, by shifting each class's boxes into a region of their own (torchvision's coordinate trick).
/// </summary>
public static partial class BoxOperations
{
    /// <summary>Pairwise intersection over union of <paramref name="boxes1"/> (N, 4) and <paramref name="boxes2"/> (M, 4): (N, M).
    /// Empty boxes give 0, not NaN.</summary>
    public static Tensor Iou(Tensor boxes1, Tensor boxes2)
    {
        using var scope = torch.NewDisposeScope();
        var (inter, union) = IntersectionAndUnion(CheckBoxes(boxes1, nameof(boxes1)), CheckBoxes(boxes2, nameof(boxes2)));
        return inter.div(union.clamp_min(1e-12)).MoveToOuterDisposeScope();
    }

    /// <summary>Pairwise generalized IoU (Rezatofighi et al. 2019) of (N, 4) and (M, 4) boxes: (N, M), in [−1, 1].</summary>
    public static Tensor GeneralizedIou(Tensor boxes1, Tensor boxes2)
    {
        using var scope = torch.NewDisposeScope();
        CheckBoxes(boxes1, nameof(boxes1));
        CheckBoxes(boxes2, nameof(boxes2));
        var (inter, union) = IntersectionAndUnion(boxes1, boxes2);
        var iou = inter.div(union.clamp_min(1e-12));
        var a = boxes1.unsqueeze(1);
        var b = boxes2.unsqueeze(0);
        var enclosing = (torch.maximum(a[.., .., 2], b[.., .., 2]) - torch.minimum(a[.., .., 0], b[.., .., 0])).clamp_min(0)
                        * (torch.maximum(a[.., .., 3], b[.., .., 3]) - torch.minimum(a[.., .., 1], b[.., .., 1])).clamp_min(0);
        return (iou - (enclosing - union).div(enclosing.clamp_min(1e-12))).MoveToOuterDisposeScope();
    }

    /// <summary>Generalized IoU of matching rows of (N, 4) and (N, 4) boxes: (N). Used by the detector's box loss.</summary>
    public static Tensor ElementwiseGeneralizedIou(Tensor boxes1, Tensor boxes2)
    {
        using var scope = torch.NewDisposeScope();
        var x0 = torch.maximum(boxes1[.., 0], boxes2[.., 0]);
        var y0 = torch.maximum(boxes1[.., 1], boxes2[.., 1]);
        var x1 = torch.minimum(boxes1[.., 2], boxes2[.., 2]);
        var y1 = torch.minimum(boxes1[.., 3], boxes2[.., 3]);
        var inter = (x1 - x0).clamp_min(0) * (y1 - y0).clamp_min(0);
        var union = Area(boxes1) + Area(boxes2) - inter;
        var iou = inter.div(union.clamp_min(1e-12));
        var enclosing = (torch.maximum(boxes1[.., 2], boxes2[.., 2]) - torch.minimum(boxes1[.., 0], boxes2[.., 0])).clamp_min(0)
                        * (torch.maximum(boxes1[.., 3], boxes2[.., 3]) - torch.minimum(boxes1[.., 1], boxes2[.., 1])).clamp_min(0);
        return (iou - (enclosing - union).div(enclosing.clamp_min(1e-12))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Non-maximum suppression as torchvision's <c>ops.nms</c>: boxes in descending score order, each dropped when its IoU with
    /// an already kept box is greater than <paramref name="iouThreshold"/>. Returns the indices of the kept boxes in descending
    /// score order.
    /// </summary>
    /// <param name="boxes">(N, 4) boxes x0, y0, x1, y1.</param>
    /// <param name="scores">(N) scores.</param>
    /// <param name="iouThreshold">Overlap above which the lower-scored box is dropped, in [0, 1].</param>
    public static long[] Nms(Tensor boxes, Tensor scores, double iouThreshold)
    {
        Guard.NotNull(boxes);
        Guard.NotNull(scores);
        Guard.InRange(iouThreshold, 0, 1, maxInclusive: true);
        CheckBoxes(boxes, nameof(boxes));
        var n = (int)boxes.shape[0];
        if (scores.dim() != 1 || scores.shape[0] != n)
            throw new ArgumentException($"Expected one score per box: a tensor of shape ({n}). Received: scores of shape ({string.Join(", ", scores.shape)}).", nameof(scores));
        if (n == 0)
            return [];
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        // Sorting and gathering stay on the boxes' device; then one copy of the sorted boxes and their order to the CPU.
        var order = scores.argsort(descending: true);
        var sorted = boxes.index_select(0, order).to(ScalarType.Float32);
        return Suppress(HostCopy.ToArray<float>(sorted), HostCopy.ToArray<long>(order), iouThreshold);
    }

    /// <summary>
    /// Non-maximum suppression within each class, as torchvision's <c>ops.batched_nms</c>: boxes of different
    /// <paramref name="classes"/> never suppress each other. Returns kept indices in descending score order.
    /// </summary>
    /// <param name="boxes">(N, 4) boxes.</param>
    /// <param name="scores">(N) scores.</param>
    /// <param name="classes">(N) integer class of each box.</param>
    /// <param name="iouThreshold">Overlap above which the lower-scored box of the same class is dropped.</param>
    public static long[] BatchedNms(Tensor boxes, Tensor scores, Tensor classes, double iouThreshold)
    {
        Guard.NotNull(boxes);
        Guard.NotNull(classes);
        CheckBoxes(boxes, nameof(boxes));
        if (classes.dim() != 1 || classes.shape[0] != boxes.shape[0])
            throw new ArgumentException($"Expected one class per box: a tensor of shape ({boxes.shape[0]}). Received: classes of shape ({string.Join(", ", classes.shape)}).", nameof(classes));
        if (boxes.shape[0] == 0)
            return [];
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var floats = boxes.to(ScalarType.Float32);
        // Each class moves to a region of its own, further away than any box reaches: no overlap across classes.
        var span = floats.max() - floats.min() + 1;
        var offsets = classes.to(ScalarType.Float32).mul(span).unsqueeze(1);
        return Nms(floats + offsets, scores, iouThreshold);
    }

    /// <summary>
    /// The greedy pass over boxes sorted by descending score, with torchvision's CPU kernel's arithmetic (float areas and
    /// overlaps, dropped when IoU &gt; threshold): each kept box is compared only with the boxes not yet dropped after it.
    /// </summary>
    private static long[] Suppress(float[] sorted, long[] order, double iouThreshold)
    {
        var n = order.Length;
        var areas = new float[n];
        for (var i = 0; i < n; i++)
            areas[i] = (sorted[4 * i + 2] - sorted[4 * i]) * (sorted[4 * i + 3] - sorted[4 * i + 1]);
        var removed = new bool[n];
        var kept = new List<long>();
        for (var i = 0; i < n; i++)
        {
            if (removed[i])
                continue;
            kept.Add(order[i]);
            var (x0, y0, x1, y1, area) = (sorted[4 * i], sorted[4 * i + 1], sorted[4 * i + 2], sorted[4 * i + 3], areas[i]);
            for (var j = i + 1; j < n; j++)
            {
                if (removed[j])
                    continue;
                var w = MathF.Max(0, MathF.Min(x1, sorted[4 * j + 2]) - MathF.Max(x0, sorted[4 * j]));
                var h = MathF.Max(0, MathF.Min(y1, sorted[4 * j + 3]) - MathF.Max(y0, sorted[4 * j + 1]));
                var inter = w * h;
                if (inter / (area + areas[j] - inter) > iouThreshold)
                    removed[j] = true;
            }
        }
        return kept.ToArray();
    }

    private static (Tensor Intersection, Tensor Union) IntersectionAndUnion(Tensor a, Tensor b)
    {
        var left = torch.maximum(a[.., 0].unsqueeze(1), b[.., 0].unsqueeze(0));
        var top = torch.maximum(a[.., 1].unsqueeze(1), b[.., 1].unsqueeze(0));
        var right = torch.minimum(a[.., 2].unsqueeze(1), b[.., 2].unsqueeze(0));
        var bottom = torch.minimum(a[.., 3].unsqueeze(1), b[.., 3].unsqueeze(0));
        var inter = (right - left).clamp_min(0) * (bottom - top).clamp_min(0);
        var union = Area(a).unsqueeze(1) + Area(b).unsqueeze(0) - inter;
        return (inter, union);
    }

    private static Tensor Area(Tensor boxes) => (boxes[.., 2] - boxes[.., 0]) * (boxes[.., 3] - boxes[.., 1]);

    private static Tensor CheckBoxes(Tensor boxes, string name)
    {
        Guard.NotNull(boxes, name);
        if (boxes.dim() != 2 || boxes.shape[1] != 4)
            throw new ArgumentException($"Expected boxes as a tensor of shape (N, 4) holding x0, y0, x1, y1. Received: {name} of shape ({string.Join(", ", boxes.shape)}).", name);
        return boxes;
    }
}

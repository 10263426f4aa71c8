using System;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>
/// Box-regression losses of the detectors, per element (no reduction): smooth L1 on encoded box offsets (Faster R-CNN, SSD)
/// and the complete-IoU loss on boxes. Both delegate to the existing implementations — TorchSharp's native
/// <c>smooth_l1_loss</c> and TorchVision.NET 0.107's <c>ops.complete_box_iou_loss</c> (a port of torchvision's) — after
/// checking shapes; the tests pin both to hand-computed values.
/// </summary>
public static class DetectionLosses
{
    /// <summary>
    /// Smooth L1 (Huber divided by β) per element: 0.5·d²/β where |d| &lt; β, |d| − 0.5·β elsewhere, d = input − target.
    /// β = 0 is plain L1. Faster R-CNN's box head uses β = 1/9, SSD uses β = 1.
    /// </summary>
    /// <param name="input">Predictions, any shape.</param>
    /// <param name="target">Targets of the same shape.</param>
    /// <param name="beta">Where the quadratic part ends, ≥ 0 (default 1).</param>
    /// <returns>The loss of each element, the shape of <paramref name="input"/>.</returns>
    public static Tensor SmoothL1(Tensor input, Tensor target, double beta = 1)
    {
        Guard.NotNull(input);
        Guard.NotNull(target);
        Guard.NonNegative(beta);
        SameShape(input, target);
        return nn.functional.smooth_l1_loss(input, target, nn.Reduction.None, beta);
    }

    /// <summary>
    /// Complete-IoU loss (Zheng et al. 2020) of matching rows of two box sets x0, y0, x1, y1: 1 − IoU + ρ²/c² + α·v, where ρ is
    /// the distance between the centres, c the diagonal of the smallest enclosing box, v = 4/π²·(atan(w₂/h₂) − atan(w₁/h₁))²
    /// and α = v / (1 − IoU + v) (not differentiated). 0 for identical boxes; symmetric.
    /// </summary>
    /// <param name="boxes1">(N, 4) boxes.</param>
    /// <param name="boxes2">(N, 4) boxes.</param>
    /// <returns>(N) losses.</returns>
    public static Tensor CompleteIou(Tensor boxes1, Tensor boxes2)
    {
        Guard.NotNull(boxes1);
        Guard.NotNull(boxes2);
        if (boxes1.dim() != 2 || boxes1.shape[1] != 4)
            throw new ArgumentException($"Expected boxes as a tensor of shape (N, 4) holding x0, y0, x1, y1. Received: boxes1 of shape ({string.Join(", ", boxes1.shape)}).", nameof(boxes1));
        SameShape(boxes1, boxes2, nameof(boxes2));
        using var scope = torch.NewDisposeScope();
        return torchvision.ops.complete_box_iou_loss(boxes1, boxes2, nn.Reduction.None).MoveToOuterDisposeScope();
    }

    private static void SameShape(Tensor input, Tensor target, string name = "target")
    {
        if (!input.shape.AsSpan().SequenceEqual(target.shape))
            throw new ArgumentException($"Expected {name} of the same shape as the input ({string.Join(", ", input.shape)}). Received: {name} of shape ({string.Join(", ", target.shape)}).", name);
    }
}

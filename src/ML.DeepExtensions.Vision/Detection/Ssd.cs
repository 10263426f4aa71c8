using System;
using System.Collections.Generic;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>
/// The multi-scale head of <c>Ssd</c> on the stride-8 feature map <c>(channels, height, width)</c>: two extra 3×3 stride-2
/// convolutions (batch norm, ReLU) give stride-16 and stride-32 maps; on each of the three maps a 3×3 convolution predicts,
/// for each of <see cref="SsdGeometry.PriorsPerLocation"/> default boxes per location, four encoded offsets and
/// <c>classes + 1</c> class logits (background first). Output per image: <c>(default boxes, 5 + classes)</c>, the default
/// boxes of the three maps in order (<see cref="SsdGeometry.Priors"/>).
/// </summary>
public sealed class SsdHeadLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="classes">Object classes (without background), &gt; 0.</param>
    public SsdHeadLayer(int classes) => Classes = Guard.Positive(classes);

    /// <summary>Object classes (without background).</summary>
    public int Classes { get; }

    /// <inheritdoc />
    public override string ToString() => $"SsdHead({Classes} classes)";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length == 3 && input[1] == input[2] && input[1] % 4 == 0
            ? [SsdGeometry.PriorCount(input[1] * DetectionArchitectures.Stride), 5 + Classes]
            : throw ShapeError(index, input, "a square feature map (channels, height, width) whose side is a multiple of 4");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new SsdModule(input[0], Classes);
}

/// <summary>Default boxes of <c>Ssd</c>.</summary>
internal static class SsdGeometry
{
    /// <summary>Strides of the three maps.</summary>
    public static readonly int[] Strides = [8, 16, 32];

    /// <summary>Default-box side of each map as a fraction of the input side (SSD's s_k), plus one after the last for the
    /// extra square box √(s_k·s_k+1).</summary>
    public static readonly double[] Scales = [0.125, 0.25, 0.5, 0.75];

    /// <summary>Aspect ratios (width / height) of the boxes of side s_k; one more square box of side √(s_k·s_k+1) follows.</summary>
    public static readonly double[] AspectRatios = [1, 2, 0.5];

    public static int PriorsPerLocation => AspectRatios.Length + 1;

    public static int PriorCount(int size)
    {
        var count = 0;
        foreach (var stride in Strides)
            count += size / stride * (size / stride) * PriorsPerLocation;
        return count;
    }

    /// <summary>The default boxes x0, y0, x1, y1 of an input of <paramref name="size"/>², (P, 4): maps in order, locations
    /// row-major, then boxes; centred on the cells.</summary>
    public static Tensor Priors(int size, Device device)
    {
        var values = new List<float>(PriorCount(size) * 4);
        for (var level = 0; level < Strides.Length; level++)
        {
            var stride = Strides[level];
            var cells = size / stride;
            var side = Scales[level] * size;
            var shapes = new List<(double W, double H)>();
            foreach (var ratio in AspectRatios)
                shapes.Add((side * Math.Sqrt(ratio), side / Math.Sqrt(ratio)));
            var extra = Math.Sqrt(Scales[level] * Scales[level + 1]) * size;
            shapes.Add((extra, extra));
            for (var y = 0; y < cells; y++)
                for (var x = 0; x < cells; x++)
                    foreach (var (w, h) in shapes)
                    {
                        var (cx, cy) = ((x + 0.5) * stride, (y + 0.5) * stride);
                        values.AddRange([(float)(cx - w / 2), (float)(cy - h / 2), (float)(cx + w / 2), (float)(cy + h / 2)]);
                    }
        }
        return torch.tensor(values.ToArray(), [values.Count / 4, 4], device: device);
    }
}

/// <summary>The TorchSharp module of <see cref="SsdHeadLayer"/>.</summary>
internal sealed class SsdModule : nn.Module<Tensor, Tensor>
{
    private readonly int _classes;
    private readonly Sequential extra1;
    private readonly Sequential extra2;
    private readonly ModuleList<Conv2d> predictors;

    public SsdModule(int channels, int classes) : base("SsdHead")
    {
        // Built inside a scope: TorchSharp's convolutions leak a temporary when created outside one (see DetectionHeadModule).
        using var scope = torch.NewDisposeScope();
        _classes = classes;
        extra1 = Extra(channels);
        extra2 = Extra(channels);
        var outputs = SsdGeometry.PriorsPerLocation * (5 + classes);
        predictors = new ModuleList<Conv2d>(nn.Conv2d(channels, outputs, 3, padding: 1), nn.Conv2d(channels, outputs, 3, padding: 1), nn.Conv2d(channels, outputs, 3, padding: 1));
        RegisterComponents();
    }

    private static Sequential Extra(int channels)
        => nn.Sequential(nn.Conv2d(channels, channels, 3, stride: 2, padding: 1, bias: false), StableBatchNorm.Create(channels, 2), nn.ReLU());

    public override Tensor forward(Tensor features)
    {
        using var scope = torch.NewDisposeScope();
        var n = features.shape[0];
        var second = extra1.forward(features);
        var third = extra2.forward(second);
        var maps = new[] { features, second, third };
        var rows = new Tensor[3];
        for (var level = 0; level < 3; level++)
        {
            var p = predictors[level].forward(maps[level]);                                                  // (N, A·(5+K), H, W)
            rows[level] = p.permute(0, 2, 3, 1).reshape(n, -1, 5 + _classes);                                // (N, H·W·A, 5+K)
        }
        return torch.cat(rows, 1).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// SSD's training loss (Liu et al. 2016): a default box is positive for the true box it overlaps most when that IoU is
/// ≥ 0.5, and each true box's best default box is positive for it whatever the IoU; smooth L1 (β 1) on the positives'
/// offsets encoded with variances 0.1 / 0.2 (box-coder weights 10, 10, 5, 5); softmax cross-entropy on the positives and on
/// the hardest negatives, three per positive in each image (hard-negative mining by cross-entropy); both over the positives.
/// </summary>
internal static class SsdLoss
{
    public const double PositiveIou = 0.5;
    public const int NegativesPerPositive = 3;

    public static Tensor Loss(Tensor output, Batch batch, int classes, int size)
    {
        using var scope = torch.NewDisposeScope();
        var gt = batch.Extras[DetectionBatchSource.BoxesKey];
        var gtClasses = batch.Extras[DetectionBatchSource.ClassesKey];
        var mask = batch.Extras[DetectionBatchSource.MaskKey].gt(0);
        var priors = SsdGeometry.Priors(size, output.device);                                                // (P, 4)
        var priorCount = priors.shape[0];
        var iou = torch.where(mask.unsqueeze(1), FasterRcnnGeometry.BatchedIou(priors, gt), torch.tensor(-1f, device: output.device));   // (N, P, M)
        var (best, matched) = iou.max(2);
        // Each true box claims its best default box.
        var bestPrior = iou.argmax(1);                                                                       // (N, M)
        var claimed = torch.arange(priorCount, device: output.device).view(1, -1, 1).eq(bestPrior.unsqueeze(1)).logical_and(mask.unsqueeze(1));   // (N, P, M)
        var isClaimed = claimed.any(2);
        matched = torch.where(isClaimed, claimed.to(ScalarType.Float32).argmax(2), matched);
        var positive = best.ge(PositiveIou).logical_or(isClaimed);
        var positives = positive.sum(1);                                                                     // (N)
        var total = positives.sum().to(ScalarType.Float32).clamp_min(1);

        var target = torch.where(positive, gtClasses.gather(1, matched) + 1, torch.zeros_like(matched));
        var logits = output[.., .., 4..];
        var ce = nn.functional.cross_entropy(logits.reshape(-1, classes + 1), target.reshape(-1), reduction: nn.Reduction.None).view_as(target);
        var negativeLoss = torch.where(positive, torch.full_like(ce, -1), ce.detach());
        var rank = negativeLoss.argsort(1, descending: true).argsort(1);
        var hard = rank.lt((positives * NegativesPerPositive).unsqueeze(1)).logical_and(positive.logical_not());
        var classification = (ce * positive.logical_or(hard).to(ce.dtype)).sum() / total;

        var matchedBoxes = gt.gather(1, matched.unsqueeze(-1).expand(-1, -1, 4));
        var offsets = FasterRcnnGeometry.Encode(matchedBoxes, priors.unsqueeze(0).expand_as(matchedBoxes), FasterRcnnGeometry.HeadWeights);
        var localization = DetectionLosses.SmoothL1(output[.., .., ..4][positive], offsets[positive], 1).sum() / total;
        return (classification + localization).MoveToOuterDisposeScope();
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>
/// The two-stage head of <c>FasterRcnn</c> on one stride-8 feature map <c>(channels, height, width)</c>: a region proposal
/// network (a 3×3 convolution with ReLU, then per location one objectness logit and four box deltas for each of
/// <see cref="FasterRcnnGeometry.AnchorsPerLocation"/> anchors), proposals (deltas applied to the anchors, clipped, the
/// best pre-NMS candidates, NMS at IoU 0.7, the best <see cref="Proposals"/> kept; no gradient flows through them),
/// <see cref="BoxOperations.RoiAlign"/> of each proposal to 7×7, and a box head (two fully connected layers with ReLU, then
/// <c>classes + 1</c> class logits, background first, and four box deltas per class).
/// Output per image, <c>(anchors + proposals, 6 + 5·classes)</c>: first one row per anchor (objectness logit, four deltas,
/// zeros), then one row per proposal (its box x0, y0, x1, y1 in input pixels, 1 if it is a real proposal or 0 for padding,
/// the class logits, the per-class deltas). In training steps the trainer also hands the head the batch's true boxes, and,
/// as torchvision appends them to the proposals before sampling the box head's regions, one more row follows per true box
/// (its box, <see cref="FasterRcnnGeometry.TrueBoxRow"/> or 0 for padding, its logits and deltas); the loss samples them like
/// proposals and the decoder ignores them. Validation and scoring never see them.
/// </summary>
public sealed class FasterRcnnHeadLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="classes">Object classes (without background), &gt; 0.</param>
    /// <param name="proposals">Proposals per image handed to the box head, &gt; 0.</param>
    /// <param name="headUnits">Units of the box head's fully connected layers, &gt; 0.</param>
    public FasterRcnnHeadLayer(int classes, int proposals, int headUnits)
    {
        Classes = Guard.Positive(classes);
        Proposals = Guard.Positive(proposals);
        HeadUnits = Guard.Positive(headUnits);
    }

    /// <summary>Object classes (without background).</summary>
    public int Classes { get; }

    /// <summary>Proposals per image handed to the box head.</summary>
    public int Proposals { get; }

    /// <summary>Units of the box head's fully connected layers.</summary>
    public int HeadUnits { get; }

    /// <inheritdoc />
    public override string ToString() => $"FasterRcnnHead({Classes} classes, {Proposals} proposals, {HeadUnits} units)";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length == 3
            ? [input[1] * input[2] * FasterRcnnGeometry.AnchorsPerLocation + Proposals, FasterRcnnGeometry.RowWidth(Classes)]
            : throw ShapeError(index, input, "a feature map (channels, height, width)");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new FasterRcnnModule(input[0], Classes, Proposals, HeadUnits);
}

/// <summary>Anchors, box encoding and the output layout of <c>FasterRcnn</c>.</summary>
internal static class FasterRcnnGeometry
{
    /// <summary>Anchor sides (square-equivalent) in input pixels.</summary>
    public static readonly float[] AnchorSizes = [16, 32, 64];

    /// <summary>Anchor aspect ratios height / width.</summary>
    public static readonly float[] AspectRatios = [0.5f, 1, 2];

    public static int AnchorsPerLocation => AnchorSizes.Length * AspectRatios.Length;

    /// <summary>The flag of a row that holds a true box appended to the proposals in a training step (a proposal's is 1, padding's 0).</summary>
    public const float TrueBoxRow = 2;

    /// <summary>RoIAlign output side.</summary>
    public const int PooledSize = 7;

    /// <summary>Best RPN candidates per image before NMS.</summary>
    public const int PreNmsCandidates = 600;

    /// <summary>NMS overlap of the proposals.</summary>
    public const double ProposalNmsThreshold = 0.7;

    /// <summary>Box-coder weights of the RPN (torchvision: 1, 1, 1, 1) and of the box head (10, 10, 5, 5).</summary>
    public static readonly float[] RpnWeights = [1, 1, 1, 1];

    public static readonly float[] HeadWeights = [10, 10, 5, 5];

    /// <summary>Largest log-scale a delta may apply (torchvision's log(1000 / 16)).</summary>
    public static readonly double ScaleClamp = Math.Log(1000.0 / 16);

    public static int RowWidth(int classes) => 6 + 5 * classes;

    public static int AnchorCount(int size) => size / DetectionArchitectures.Stride * (size / DetectionArchitectures.Stride) * AnchorsPerLocation;

    /// <summary>Anchors of an input of <paramref name="size"/>², (A, 4): locations row-major, then anchors, centred on each
    /// stride-8 cell (torchvision's anchor generator shapes, centres moved to the cell centres).</summary>
    public static Tensor Anchors(int size, Device device)
    {
        var cells = size / DetectionArchitectures.Stride;
        var shapes = new List<float>();
        foreach (var ratio in AspectRatios)
            foreach (var side in AnchorSizes)
            {
                var h = MathF.Sqrt(ratio) * side;
                var w = side / MathF.Sqrt(ratio);
                shapes.AddRange([-w / 2, -h / 2, w / 2, h / 2]);
            }
        var baseAnchors = torch.tensor(shapes.ToArray(), [AnchorsPerLocation, 4], device: device);
        var centres = (torch.arange(cells, dtype: ScalarType.Float32, device: device) + 0.5f) * DetectionArchitectures.Stride;
        var ys = centres.view(-1, 1).expand(cells, cells).reshape(-1);
        var xs = centres.view(1, -1).expand(cells, cells).reshape(-1);
        var shifts = torch.stack([xs, ys, xs, ys], 1);                                           // (L, 4)
        return (shifts.unsqueeze(1) + baseAnchors.unsqueeze(0)).reshape(-1, 4);
    }

    /// <summary>Deltas (dx, dy, dw, dh)·weights that move <paramref name="reference"/> boxes onto <paramref name="boxes"/> (same shape, (…, 4)).</summary>
    public static Tensor Encode(Tensor boxes, Tensor reference, float[] weights)
    {
        var (w, h, cx, cy) = Centres(reference);
        var (gw, gh, gx, gy) = Centres(boxes);
        return torch.stack([weights[0] * (gx - cx) / w, weights[1] * (gy - cy) / h, weights[2] * (gw / w).log(), weights[3] * (gh / h).log()], -1);
    }

    /// <summary>Boxes from deltas applied to <paramref name="reference"/> boxes (broadcast, (…, 4)).</summary>
    public static Tensor Decode(Tensor deltas, Tensor reference, float[] weights)
    {
        var (w, h, cx, cy) = Centres(reference);
        var dx = deltas[TensorIndex.Ellipsis, 0] / weights[0];
        var dy = deltas[TensorIndex.Ellipsis, 1] / weights[1];
        var dw = (deltas[TensorIndex.Ellipsis, 2] / weights[2]).clamp_max(ScaleClamp);
        var dh = (deltas[TensorIndex.Ellipsis, 3] / weights[3]).clamp_max(ScaleClamp);
        var x = dx * w + cx;
        var y = dy * h + cy;
        var pw = dw.exp() * w;
        var ph = dh.exp() * h;
        return torch.stack([x - pw / 2, y - ph / 2, x + pw / 2, y + ph / 2], -1);
    }

    private static (Tensor W, Tensor H, Tensor X, Tensor Y) Centres(Tensor boxes)
    {
        var w = boxes[TensorIndex.Ellipsis, 2] - boxes[TensorIndex.Ellipsis, 0];
        var h = boxes[TensorIndex.Ellipsis, 3] - boxes[TensorIndex.Ellipsis, 1];
        return (w, h, boxes[TensorIndex.Ellipsis, 0] + 0.5f * w, boxes[TensorIndex.Ellipsis, 1] + 0.5f * h);
    }

    /// <summary>IoU of every box of <paramref name="a"/> (N, P, 4) or (P, 4) with every box of <paramref name="b"/> (N, M, 4): (N, P, M).</summary>
    public static Tensor BatchedIou(Tensor a, Tensor b)
    {
        if (a.dim() == 2)
            a = a.unsqueeze(0);
        var left = torch.maximum(a[.., .., 0].unsqueeze(2), b[.., .., 0].unsqueeze(1));
        var top = torch.maximum(a[.., .., 1].unsqueeze(2), b[.., .., 1].unsqueeze(1));
        var right = torch.minimum(a[.., .., 2].unsqueeze(2), b[.., .., 2].unsqueeze(1));
        var bottom = torch.minimum(a[.., .., 3].unsqueeze(2), b[.., .., 3].unsqueeze(1));
        var inter = (right - left).clamp_min(0) * (bottom - top).clamp_min(0);
        var areaA = ((a[.., .., 2] - a[.., .., 0]) * (a[.., .., 3] - a[.., .., 1])).unsqueeze(2);
        var areaB = ((b[.., .., 2] - b[.., .., 0]) * (b[.., .., 3] - b[.., .., 1])).unsqueeze(1);
        return inter / (areaA + areaB - inter).clamp_min(1e-9);
    }

    /// <summary>
    /// A random subset of candidates per image (rows of the masks): at most <paramref name="positiveFraction"/>·<paramref name="perImage"/>
    /// positives, then negatives up to <paramref name="perImage"/> in all, each drawn uniformly with <paramref name="generator"/>
    /// (torchvision's balanced positive/negative sampler, on the device, without a host synchronisation).
    /// </summary>
    public static (Tensor Positives, Tensor Negatives) Sample(Tensor positive, Tensor negative, int perImage, double positiveFraction, Generator generator)
    {
        var maxPositives = (int)(perImage * positiveFraction);
        var keys = torch.rand(positive.shape, generator: generator, device: positive.device);
        var positiveRank = RankWhere(positive, keys);
        var takenPositives = positive.logical_and(positiveRank.lt(maxPositives));
        var negativeQuota = (perImage - takenPositives.sum(1, keepdim: true)).clamp_min(0);
        var negativeRank = RankWhere(negative, torch.rand(negative.shape, generator: generator, device: negative.device));
        var takenNegatives = negative.logical_and(negativeRank.lt(negativeQuota));
        return (takenPositives, takenNegatives);
    }

    /// <summary>Per row, the rank (0 = first) of each selected element in random order; unselected elements rank after all selected ones.</summary>
    private static Tensor RankWhere(Tensor selected, Tensor keys)
    {
        var ordered = torch.where(selected, keys, torch.full_like(keys, -1)).argsort(1, descending: true);
        return ordered.argsort(1);
    }
}

/// <summary>The TorchSharp module of <see cref="FasterRcnnHeadLayer"/>.</summary>
internal sealed class FasterRcnnModule : nn.Module<Tensor, Tensor>
{
    private readonly int _classes;
    private readonly int _proposals;
    private readonly Conv2d rpnConv;
    private readonly Conv2d rpnObjectness;
    private readonly Conv2d rpnDeltas;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear classLogits;
    private readonly Linear boxDeltas;

    public FasterRcnnModule(int channels, int classes, int proposals, int units) : base("FasterRcnnHead")
    {
        // Built inside a scope: TorchSharp's convolutions leak a temporary when created outside one (see DetectionHeadModule).
        using var scope = torch.NewDisposeScope();
        _classes = classes;
        _proposals = proposals;
        var anchors = FasterRcnnGeometry.AnchorsPerLocation;
        rpnConv = nn.Conv2d(channels, channels, 3, padding: 1);
        rpnObjectness = nn.Conv2d(channels, anchors, 1);
        rpnDeltas = nn.Conv2d(channels, anchors * 4, 1);
        var pooled = FasterRcnnGeometry.PooledSize;
        fc1 = nn.Linear(channels * pooled * pooled, units);
        fc2 = nn.Linear(units, units);
        classLogits = nn.Linear(units, classes + 1);
        boxDeltas = nn.Linear(units, classes * 4);
        RegisterComponents();
        using var noGrad = torch.no_grad();
        // torchvision's initialisation of the RPN and the predictor: small normal weights, zero biases.
        foreach (var conv in new[] { rpnConv, rpnObjectness, rpnDeltas })
        {
            nn.init.normal_(conv.weight!, std: 0.01);
            conv.bias!.zero_();
        }
        nn.init.normal_(classLogits.weight!, std: 0.01);
        classLogits.bias!.zero_();
        nn.init.normal_(boxDeltas.weight!, std: 0.001);
        boxDeltas.bias!.zero_();
    }

    /// <summary>The batch's true boxes (N, M, 4) in input pixels and their mask (N, M) while <see cref="ForwardWithTargets"/> runs.</summary>
    private (Tensor Boxes, Tensor Mask)? _targets;

    /// <summary>
    /// The output of <paramref name="network"/> (which holds this head) for <paramref name="input"/>, with the head seeing the
    /// true <paramref name="boxes"/> (N, M, 4, input pixels) and their <paramref name="mask"/> (N, M): in training mode they are
    /// appended to each image's proposals (see the class summary); in evaluation mode they are ignored.
    /// </summary>
    public Tensor ForwardWithTargets(nn.Module<Tensor, Tensor> network, Tensor input, Tensor boxes, Tensor mask)
    {
        _targets = (boxes, mask);
        try
        {
            return network.forward(input);
        }
        finally
        {
            _targets = null;
        }
    }

    public override Tensor forward(Tensor features)
    {
        using var scope = torch.NewDisposeScope();
        var n = features.shape[0];
        var size = (int)features.shape[2] * DetectionArchitectures.Stride;
        var hidden = nn.functional.relu(rpnConv.forward(features));
        var objectness = rpnObjectness.forward(hidden).permute(0, 2, 3, 1).reshape(n, -1);                      // (N, A)
        var k = FasterRcnnGeometry.AnchorsPerLocation;
        var deltas = rpnDeltas.forward(hidden).view(n, k, 4, features.shape[2], features.shape[3])
            .permute(0, 3, 4, 1, 2).reshape(n, -1, 4);                                                        // (N, A, 4)
        var anchors = FasterRcnnGeometry.Anchors(size, features.device);
        var (boxes, valid) = Propose(objectness.detach(), deltas.detach(), anchors, size);                      // (N, R, 4), (N, R)
        if (training && _targets is { } targets)
        {
            var real = targets.Mask.gt(0).to(ScalarType.Float32);
            boxes = torch.cat([boxes, targets.Boxes.to(ScalarType.Float32) * real.unsqueeze(-1)], 1);              // (N, R + M, 4)
            valid = torch.cat([valid, real * FasterRcnnGeometry.TrueBoxRow], 1);
        }
        var rows = boxes.shape[1];

        var batchIndex = torch.arange(n, dtype: ScalarType.Float32, device: features.device).view(-1, 1, 1).expand(n, rows, 1);
        var rois = torch.cat([batchIndex, boxes], 2).reshape(-1, 5);
        var pooled = BoxOperations.RoiAlign(features, rois, FasterRcnnGeometry.PooledSize, FasterRcnnGeometry.PooledSize,
            1.0 / DetectionArchitectures.Stride, samplingRatio: 2);
        var x = nn.functional.relu(fc1.forward(pooled.flatten(1)));
        x = nn.functional.relu(fc2.forward(x));
        var logits = classLogits.forward(x).view(n, rows, _classes + 1);
        var boxOutput = boxDeltas.forward(x).view(n, rows, _classes * 4);
        var proposalRows = torch.cat([boxes, valid.unsqueeze(-1), logits, boxOutput], 2);
        var width = FasterRcnnGeometry.RowWidth(_classes);
        var anchorRows = torch.cat([objectness.unsqueeze(-1), deltas, torch.zeros(n, objectness.shape[1], width - 5, device: features.device)], 2);
        return torch.cat([anchorRows, proposalRows], 1).MoveToOuterDisposeScope();
    }

    /// <summary>The proposals of each image: deltas applied to the anchors, clipped; the best pre-NMS candidates by objectness,
    /// tiny boxes dropped, NMS at 0.7, the first <see cref="_proposals"/>, padded with empty boxes marked invalid.</summary>
    private (Tensor Boxes, Tensor Valid) Propose(Tensor objectness, Tensor deltas, Tensor anchors, int size)
    {
        var n = (int)objectness.shape[0];
        var decoded = FasterRcnnGeometry.Decode(deltas, anchors.unsqueeze(0), FasterRcnnGeometry.RpnWeights).clamp(0, size);
        var candidates = (int)Math.Min(FasterRcnnGeometry.PreNmsCandidates, objectness.shape[1]);
        var (scores, index) = objectness.topk(candidates, 1);
        var candidateBoxes = decoded.gather(1, index.unsqueeze(-1).expand(-1, -1, 4));                        // (N, C, 4)
        var wide = (candidateBoxes[.., .., 2] - candidateBoxes[.., .., 0]).ge(1e-3)
            .logical_and((candidateBoxes[.., .., 3] - candidateBoxes[.., .., 1]).ge(1e-3));
        scores = torch.where(wide, scores, torch.full_like(scores, float.NegativeInfinity));
        var picks = new long[n * _proposals];
        var valid = new float[n * _proposals];
        for (var i = 0; i < n; i++)
        {
            var kept = BoxOperations.Nms(candidateBoxes[i], scores[i], FasterRcnnGeometry.ProposalNmsThreshold);
            var wideHost = HostCopy.ToArray<bool>(wide[i]);
            var j = 0;
            foreach (var index_ in kept)
            {
                if (j == _proposals)
                    break;
                if (!wideHost[index_])
                    continue;
                picks[i * _proposals + j] = index_;
                valid[i * _proposals + j] = 1;
                j++;
            }
        }
        var pickTensor = torch.tensor(picks, [n, _proposals], device: objectness.device);
        var validTensor = torch.tensor(valid, [n, _proposals], device: objectness.device);
        var boxes = candidateBoxes.gather(1, pickTensor.unsqueeze(-1).expand(-1, -1, 4)) * validTensor.unsqueeze(-1);
        return (boxes, validTensor);
    }
}

/// <summary>
/// Faster R-CNN's training loss on the output of <see cref="FasterRcnnModule"/>, torchvision's recipe at CPU scale.
/// RPN: an anchor is positive when its IoU with a true box is ≥ <see cref="RpnPositiveIou"/> (0.5; torchvision 0.7) or it is a true box's best anchor, negative below 0.3;
/// 256 anchors per image are sampled (at most half positive); objectness binary cross-entropy from logits plus smooth L1
/// (β 1/9) on the positives' encoded deltas, both over the sampled count. Box head: a proposal is foreground (its true box's
/// class) at IoU ≥ 0.5, else background; <see cref="HeadSamples"/> per image are sampled (at most <see cref="HeadPositiveFraction"/> foreground);
/// cross-entropy over background + classes plus smooth L1 (β 1/9) on the foreground's deltas of their class (weights 10, 10,
/// 5, 5), over the sampled count. Sampling is random from a generator seeded by the batch's <see cref="DetectionBatchSource.SeedKey"/>
/// (drawn from the epoch's seeded shuffle, so <c>MLContext</c>'s seed fixes it). As in torchvision, the box head's candidates
/// in training are the proposals and the true boxes (the rows <see cref="FasterRcnnModule.ForwardWithTargets"/> appends).
/// </summary>
internal static class FasterRcnnLoss
{
    public const int RpnSamples = 256;
    public const int HeadSamples = 48;

    /// <summary>Largest share of foreground among the box head's samples (torchvision 0.25).</summary>
    public const double HeadPositiveFraction = 0.5;

    /// <summary>IoU from which an anchor is a positive. torchvision uses 0.7; with three anchor sizes an octave apart at
    /// stride 8, objects of 10–50 pixels reach 0.7 with almost no anchor (one positive per object, its best anchor), and the
    /// RPN learned too slowly for the CI budget (measured: test mAP@0.5 0.34 after 5 epochs), so 0.5 here.</summary>
    public const double RpnPositiveIou = 0.5;
    private const double SmoothL1Beta = 1.0 / 9;

    public static Tensor Loss(Tensor output, Batch batch, int classes, int size)
    {
        using var scope = torch.NewDisposeScope();
        var gt = batch.Extras[DetectionBatchSource.BoxesKey];                   // (N, M, 4)
        var gtClasses = batch.Extras[DetectionBatchSource.ClassesKey];          // (N, M)
        var mask = batch.Extras[DetectionBatchSource.MaskKey].gt(0);            // (N, M)
        var seeds = batch.Extras.TryGetValue(DetectionBatchSource.SeedKey, out var s) ? HostCopy.ToArray<long>(s) : [0L];
        using var generator = new Generator((ulong)seeds[0], output.device);
        var anchorCount = FasterRcnnGeometry.AnchorCount(size);
        var anchors = FasterRcnnGeometry.Anchors(size, output.device);

        // Region proposal network.
        var rpn = output[.., ..anchorCount, ..5];
        var iou = torch.where(mask.unsqueeze(1), FasterRcnnGeometry.BatchedIou(anchors, gt), torch.tensor(-1f, device: output.device));   // (N, A, M)
        var (best, matched) = iou.max(2);
        var bestPerTruth = iou.max(1).values;                                                                 // (N, M)
        var bestAnchor = iou.eq(bestPerTruth.unsqueeze(1)).logical_and(mask.unsqueeze(1)).logical_and(bestPerTruth.unsqueeze(1).gt(0)).any(2);
        var positive = best.ge(RpnPositiveIou).logical_or(bestAnchor);
        var negative = best.lt(0.3).logical_and(positive.logical_not());
        var (takenPositive, takenNegative) = FasterRcnnGeometry.Sample(positive, negative, RpnSamples, 0.5, generator);
        var taken = takenPositive.logical_or(takenNegative);
        var sampled = taken.sum().to(ScalarType.Float32).clamp_min(1);
        var objectness = nn.functional.binary_cross_entropy_with_logits(rpn[.., .., 0][taken], takenPositive[taken].to(ScalarType.Float32), reduction: nn.Reduction.Sum) / sampled;
        var matchedBoxes = gt.gather(1, matched.unsqueeze(-1).expand(-1, -1, 4));
        var rpnTargets = FasterRcnnGeometry.Encode(matchedBoxes, anchors.unsqueeze(0).expand_as(matchedBoxes), FasterRcnnGeometry.RpnWeights);
        var rpnBox = DetectionLosses.SmoothL1(rpn[.., .., 1..5][takenPositive], rpnTargets[takenPositive], SmoothL1Beta).sum() / sampled;

        // Box head.
        var rows = output[.., anchorCount..];
        var proposals = rows[.., .., ..4];
        var valid = rows[.., .., 4].gt(0.5);
        var logits = rows[.., .., 5..(6 + classes)];
        var deltas = rows[.., .., (6 + classes)..].reshape(rows.shape[0], rows.shape[1], classes, 4);
        var (foreground, takenForeground, takenBackground, truth) = SampleHead(proposals, valid, gt, mask, generator);
        var headTaken = takenForeground.logical_or(takenBackground);
        var headSampled = headTaken.sum().to(ScalarType.Float32).clamp_min(1);
        var truthClass = gtClasses.gather(1, truth);
        var target = torch.where(foreground, truthClass + 1, torch.zeros_like(truthClass));
        var classification = nn.functional.cross_entropy(logits[headTaken], target[headTaken], reduction: nn.Reduction.Sum) / headSampled;
        var classDeltas = deltas.gather(2, truthClass.view(truthClass.shape[0], -1, 1, 1).expand(-1, -1, 1, 4)).squeeze(2);   // (N, R, 4)
        var truthBoxes = gt.gather(1, truth.unsqueeze(-1).expand(-1, -1, 4));
        var headTargets = FasterRcnnGeometry.Encode(truthBoxes, proposals, FasterRcnnGeometry.HeadWeights);
        var headBox = DetectionLosses.SmoothL1(classDeltas[takenForeground], headTargets[takenForeground], SmoothL1Beta).sum() / headSampled;
        return (objectness + rpnBox + classification + headBox).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The box head's training regions among the candidate rows (<paramref name="candidates"/> (N, R, 4) with their
    /// <paramref name="valid"/> flags (N, R): proposals and, in training, the appended true boxes): which are foreground (IoU ≥ 0.5
    /// with a true box of <paramref name="gt"/> (N, M, 4) under <paramref name="mask"/> (N, M)), which foreground and background
    /// rows are sampled, and each row's best true box.
    /// </summary>
    internal static (Tensor Foreground, Tensor TakenForeground, Tensor TakenBackground, Tensor Truth) SampleHead(
        Tensor candidates, Tensor valid, Tensor gt, Tensor mask, Generator generator)
    {
        var overlap = torch.where(mask.unsqueeze(1), FasterRcnnGeometry.BatchedIou(candidates, gt), torch.tensor(-1f, device: candidates.device));
        var (bestOverlap, truth) = overlap.max(2);
        var foreground = valid.logical_and(bestOverlap.ge(0.5));
        var background = valid.logical_and(bestOverlap.lt(0.5));
        var (takenForeground, takenBackground) = FasterRcnnGeometry.Sample(foreground, background, HeadSamples, HeadPositiveFraction, generator);
        return (foreground, takenForeground, takenBackground, truth);
    }
}

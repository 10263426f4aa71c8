using System;
using System.Collections.Generic;
using System.Linq;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>
/// The detectors' loss and metrics. Faster R-CNN's loss is <see cref="FasterRcnnLoss"/>, SSD's <see cref="SsdLoss"/>. The single-stage detector's loss, FCOS-style: a feature-map location is a positive for a true box when it lies inside
/// the box and within <see cref="CenterRadius"/> strides of its centre (the smallest such box wins; with a feature pyramid, also
/// only on the level whose scale range holds its largest distance to the box's sides, as FCOS); the class logits learn
/// the sigmoid focal loss (α 0.25, γ 2, from logits with <c>binary_cross_entropy_with_logits</c>, so no log(0)) against
/// one-hot targets at positives and zeros elsewhere; the box distances learn 1 − GIoU at positives. Both are divided by the
/// number of positives. Metrics: COCO <c>MeanAveragePrecision</c> (IoU 0.5:0.95) and <c>MeanAveragePrecision50</c> over
/// the pass, from the same decoding as scoring — on validation passes always, on training passes only when asked for.
/// </summary>
internal sealed class DetectionObjective : TrainingObjective
{
    public const double CenterRadius = 2.5;
    private const double Alpha = 0.25;
    private const double Gamma = 2;
    private const double BoxWeight = 2;

    private readonly int _classes;
    private readonly int _size;
    private readonly DetectionDecoding _decoding;
    private readonly string _architecture;

    private readonly bool _trainingMeanAveragePrecision;

    /// <param name="classes">Object classes.</param>
    /// <param name="size">Side of the square input.</param>
    /// <param name="decoding">How the metrics decode detections.</param>
    /// <param name="architecture">The detector's registry name, which picks the loss and the decoding.</param>
    /// <param name="trainingMeanAveragePrecision">Whether training passes compute mAP too (<see cref="ObjectDetectorOptions.TrainingMeanAveragePrecision"/>); validation passes always do.</param>
    public DetectionObjective(int classes, int size, DetectionDecoding decoding, string architecture = DetectionArchitectures.AnchorFreeDetectorName, bool trainingMeanAveragePrecision = false)
    {
        _classes = classes;
        _size = size;
        _decoding = decoding;
        _architecture = architecture;
        _trainingMeanAveragePrecision = trainingMeanAveragePrecision;
    }

    public override ScalarType LabelType => ScalarType.Int64;

    /// <summary>The Faster R-CNN head found in the trained network (once), or null.</summary>
    private (nn.Module Network, FasterRcnnModule Head)? _fasterRcnn;

    /// <summary>Faster R-CNN's box head sees the batch's true boxes in training steps (<see cref="FasterRcnnModule.ForwardWithTargets"/>);
    /// the other detectors see the images alone, as in validation and scoring.</summary>
    public override Tensor TrainingOutput(nn.Module<Tensor, Tensor> module, Tensor input, Batch batch)
    {
        if (_architecture != DetectionArchitectures.FasterRcnnName)
            return base.TrainingOutput(module, input, batch);
        if (_fasterRcnn is not { } found || !ReferenceEquals(found.Network, module))
            _fasterRcnn = found = (module, module.modules().OfType<FasterRcnnModule>().Single());
        return found.Head.ForwardWithTargets(module, input, batch.Extras[DetectionBatchSource.BoxesKey], batch.Extras[DetectionBatchSource.MaskKey]);
    }

    protected override Tensor Loss(Tensor output, Tensor labels, Batch batch)
        => _architecture switch
        {
            DetectionArchitectures.FasterRcnnName => FasterRcnnLoss.Loss(output, batch, _classes, _size),
            DetectionArchitectures.SsdName => SsdLoss.Loss(output, batch, _classes, _size),
            _ => AnchorFreeLoss(output, batch),
        };

    private Tensor AnchorFreeLoss(Tensor output, Batch batch)
    {
        using var scope = torch.NewDisposeScope();
        var gt = batch.Extras[DetectionBatchSource.BoxesKey];           // (N, M, 4)
        var gtClasses = batch.Extras[DetectionBatchSource.ClassesKey];  // (N, M)
        var mask = batch.Extras[DetectionBatchSource.MaskKey];          // (N, M)
        var (points, strides) = DetectionDecoder.Locations(_size, output.shape[1], output.device);   // (L, 2), (L)
        var (positive, assigned) = Assign(gt, mask, points, strides, output.shape[1] != (_size / DetectionArchitectures.Stride) * (_size / DetectionArchitectures.Stride));
        var positives = positive.sum().to(ScalarType.Float32).clamp_min(1);

        var logits = output[.., .., 4..];
        var assignedClass = gtClasses.gather(1, assigned);                                                  // (N, L)
        var targets = nn.functional.one_hot(assignedClass, _classes).to(logits.dtype) * positive.unsqueeze(-1).to(logits.dtype);
        var probability = logits.sigmoid();
        var ce = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction: nn.Reduction.None);
        var pt = probability * targets + (1 - probability) * (1 - targets);
        var alpha = Alpha * targets + (1 - Alpha) * (1 - targets);
        var focal = (alpha * ce * (1 - pt).pow(Gamma)).sum() / positives;

        var predicted = DetectionDecoder.Boxes(output[.., .., ..4], points, strides);                       // (N, L, 4)
        var target = gt.gather(1, assigned.unsqueeze(-1).expand(-1, -1, 4));                                // (N, L, 4)
        var giou = BoxOperations.ElementwiseGeneralizedIou(predicted[positive], target[positive]);
        var box = (1 - giou).sum() / positives;
        return (focal + BoxWeight * box).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// FCOS targets: for each image and location (rows of <paramref name="points"/> (L, 2) with <paramref name="strides"/> (L)),
    /// whether it is a positive and the index of its true box among <paramref name="gt"/> (N, M, 4) with <paramref name="mask"/>
    /// (N, M). A location is a candidate for a box when it lies inside it and within <see cref="CenterRadius"/> strides of its
    /// centre; with a <paramref name="pyramid"/>, also only when its largest distance to the box's sides lies in the level's
    /// range — FCOS's (4s, 8s] for stride s, from 0 on the finest level, without bound on the coarsest. The smallest box wins.
    /// </summary>
    internal static (Tensor Positive, Tensor Assigned) Assign(Tensor gt, Tensor mask, Tensor points, Tensor strides, bool pyramid)
    {
        using var scope = torch.NewDisposeScope();
        var stride = strides.view(1, -1, 1);
        var px = points[.., 0].view(1, -1, 1);
        var py = points[.., 1].view(1, -1, 1);
        var x0 = gt[.., .., 0].unsqueeze(1);
        var y0 = gt[.., .., 1].unsqueeze(1);
        var x1 = gt[.., .., 2].unsqueeze(1);
        var y1 = gt[.., .., 3].unsqueeze(1);
        var inside = torch.minimum(torch.minimum(px - x0, py - y0), torch.minimum(x1 - px, y1 - py)).gt(0);   // (N, L, M)
        var radius = CenterRadius * stride;
        var near = (px - (x0 + x1) / 2).abs().lt(radius).logical_and((py - (y0 + y1) / 2).abs().lt(radius));
        var candidate = inside.logical_and(near).logical_and(mask.unsqueeze(1).gt(0));
        if (pyramid)
        {
            var farthest = torch.maximum(torch.maximum(px - x0, py - y0), torch.maximum(x1 - px, y1 - py));
            var lower = torch.where(stride.eq(PyramidDetectionHeadLayer.Strides[0]), torch.zeros_like(stride), 4 * stride);
            var upper = torch.where(stride.eq(PyramidDetectionHeadLayer.Strides[^1]), torch.full_like(stride, float.PositiveInfinity), 8 * stride);
            candidate = candidate.logical_and(farthest.gt(lower)).logical_and(farthest.le(upper));
        }
        var area = ((x1 - x0) * (y1 - y0)).expand_as(candidate);
        var ranked = torch.where(candidate, area, torch.full_like(area, float.PositiveInfinity));
        var (smallest, assigned) = ranked.min(2);                                                            // (N, L)
        return (smallest.isfinite().MoveToOuterDisposeScope(), assigned.MoveToOuterDisposeScope());
    }

    public override MetricAccumulator CreateAccumulator() => new Accumulator(this);

    /// <summary>Training passes report the loss alone unless <see cref="ObjectDetectorOptions.TrainingMeanAveragePrecision"/> asks for
    /// mAP: decoding and matching every training batch is a share of each step that only that report needs.</summary>
    public override MetricAccumulator CreateTrainingAccumulator() => _trainingMeanAveragePrecision ? new Accumulator(this) : new MetricAccumulator();

    private sealed class Accumulator(DetectionObjective objective) : MetricAccumulator
    {
        private readonly List<DetectionImage> _images = [];

        protected override void AddCore(double meanLoss, Tensor output, Batch batch)
        {
            var detections = DetectionDecoder.Decode(output, objective._size, objective._decoding, objective._architecture);
            using var scope = torch.NewDisposeScope();
            var boxes = batch.Extras[DetectionBatchSource.BoxesKey];
            var most = (int)boxes.shape[1];
            var allBoxes = HostCopy.ToArray<float>(boxes);
            var allClasses = HostCopy.ToArray<long>(batch.Extras[DetectionBatchSource.ClassesKey]);
            var allCounts = HostCopy.ToArray<long>(batch.Labels);
            for (var i = 0; i < detections.Count; i++)
            {
                var count = (int)allCounts[i];
                var trueBoxes = allBoxes.AsSpan(i * most * 4, count * 4).ToArray();
                var trueClasses = Array.ConvertAll(allClasses.AsSpan(i * most, count).ToArray(), c => (int)c);
                _images.Add(new DetectionImage(trueBoxes, trueClasses, detections[i].Boxes, detections[i].Classes, detections[i].Scores));
            }
        }

        protected override void ResultCore(Dictionary<string, double> result, long count)
        {
            var metrics = CocoEvaluation.Evaluate(_images, objective._classes);
            result["MeanAveragePrecision"] = metrics.MeanAveragePrecision;
            result["MeanAveragePrecision50"] = metrics.MeanAveragePrecision50;
        }
    }
}

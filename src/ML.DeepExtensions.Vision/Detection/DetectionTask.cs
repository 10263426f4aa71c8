using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Pretrained;
using ML.DeepExtensions.Tasks;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>
/// Object detection on the task contract: ML.NET's columns (image, key-vector labels, box vector) are checked in
/// <see cref="Plan"/>; rows are read, checked and letterboxed before training (<see cref="DetectionReader"/>) into a
/// <see cref="DetectionBatchSource"/> whose extras carry the padded boxes and their mask; the objective is
/// <see cref="DetectionObjective"/> (focal + GIoU loss, COCO mAP as validation metrics); the network normalises and runs
/// the architecture <see cref="ObjectDetectorOptions.Architecture"/> names.
/// </summary>
internal sealed class DetectionTask : TrainingTask
{
    /// <summary>Decoding used by the metrics during training: COCO evaluations keep detections down to score 0.05 and count
    /// at most 100 per image, so 200 candidates before NMS suffice and keep the per-batch cost of the training metrics small.</summary>
    private static readonly DetectionDecoding MetricDecoding = new(0.05, 0.5, 100, PreNmsCandidates: 200);

    private readonly ObjectDetectorOptions _options;
    private int _classes;

    public DetectionTask(ObjectDetectorOptions options) => _options = options;

    /// <summary>The label column's key count, known after <see cref="Plan"/>.</summary>
    public int Classes => _classes;

    /// <summary>The head's state tensors: those of the network's last layer (the detector's head layer, which is also what
    /// the engine keeps learning while <see cref="TrainerOptions.FreezeBackboneEpochs"/> freezes the rest), counted as
    /// pretrained weights count them.</summary>
    public override int HeadTensors(TorchSharp.torch.nn.Module network)
    {
        var head = network.named_children().Last().name + ".";
        return WeightTransfer.OrderedState(network).Count(s => s.Name.StartsWith(head, StringComparison.Ordinal));
    }

    public override TaskNetwork Plan(DataViewSchema training, DataViewSchema? validation)
    {
        var o = _options;
        _classes = DetectionColumns.Check(training, o.ImageColumnName, o.LabelColumnName, o.BoxColumnName);
        if (validation is not null)
        {
            var classes = DetectionColumns.Check(validation, o.ImageColumnName, o.LabelColumnName, o.BoxColumnName, "validation ");
            if (classes != _classes)
                throw SchemaChecks.Mismatch("validation label", o.LabelColumnName, $"keys of the training label's {_classes} values", validation[o.LabelColumnName].Type);
        }
        return new TaskNetwork(CreateNetwork(_classes), [3, o.ImageSize, o.ImageSize]);
    }

    /// <summary>Normalisation (the contract's mean and std) and the detector with <paramref name="classes"/> classes.</summary>
    public Network CreateNetwork(int classes)
    {
        var a = _options.Architecture;
        var contract = DetectionArchitectures.Contract(a.ArchitectureName);
        return Network.Create().Normalize(contract.Mean.ToArray(), contract.Std.ToArray())
            .Architecture(a.ArchitectureName, a.Values(classes, 3));
    }

    public override SchemaShape OutputSchema(SchemaShape input)
    {
        var o = _options;
        var label = DetectionColumns.Check(input, o.ImageColumnName, o.LabelColumnName, o.BoxColumnName);
        var columns = input.ToDictionary(c => c.Name);
        var keyValues = label.Annotations.TryFindColumn("KeyValues", out var kv)
            ? new SchemaShape([kv]) : null;
        columns[o.PredictedLabelColumnName] = MLNetInternals.Column(o.PredictedLabelColumnName, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.UInt32, true, keyValues);
        columns[o.ScoreColumnName] = MLNetInternals.Column(o.ScoreColumnName, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Single, false);
        columns[o.PredictedBoundingBoxColumnName] = MLNetInternals.Column(o.PredictedBoundingBoxColumnName, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Single, false);
        return new SchemaShape(columns.Values);
    }

    public override BatchSource Read(IDataView data, Func<long, bool>? rows, string role, TrainerOptions options)
    {
        var o = _options;
        var examples = DetectionReader.Read(data, rows, role, o.ImageColumnName, o.LabelColumnName, o.BoxColumnName, o.ImageSize, _classes, options.CancellationToken);
        return new DetectionBatchSource(examples, o.ImageSize, new DetectionAugmentation(o.HorizontalFlip, o.ScaleJitter, o.TranslateJitter, o.ColorJitter, o.Mosaic),
            sampleSeeds: o.Architecture is FasterRcnnParameters);
    }

    /// <summary>The tensor-name prefixes of torchvision's ResNet-18 that <see cref="DetectorBackbone.ResNet18"/> holds (up to <c>layer2</c>).</summary>
    private static readonly string[] ResNet18BackbonePrefixes = ["conv1.", "bn1.", "layer1.", "layer2."];

    /// <summary>
    /// The pretrained weights the detector loads: with the <see cref="DetectorBackbone.ResNet18"/> backbone, a file named the
    /// torchvision way (it has <c>conv1.weight</c>) is read as its <c>conv1</c>, <c>bn1</c>, <c>layer1</c> and <c>layer2</c>
    /// tensors only — the stride-8 part of the ResNet the backbone is — so a whole <c>resnet18</c> state dict loads; anything
    /// else is loaded as given (e.g. a file saved from a detector), and a file that does not fit fails before training.
    /// </summary>
    public static PretrainedWeights? Weights(PretrainedWeights? weights, DetectorParameters architecture)
        => weights is null || architecture.Backbone != DetectorBackbone.ResNet18
            ? weights
            : weights.Selecting(tensors => tensors.Any(t => t.Name == "conv1.weight")
                ? tensors.Where(t => ResNet18BackbonePrefixes.Any(prefix => t.Name.StartsWith(prefix, StringComparison.Ordinal))).ToArray()
                : tensors);

    public override TrainingObjective CreateObjective()
        => new DetectionObjective(_classes, _options.ImageSize, MetricDecoding, _options.Architecture.ArchitectureName, _options.TrainingMeanAveragePrecision);
}

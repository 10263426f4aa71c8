using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// What the engine optimises and measures: a loss over a batch and metrics accumulated over a whole pass.
/// The engine knows nothing else of the task.
/// </summary>
internal abstract class TrainingObjective
{
    /// <summary>Element type of label tensors (Float32 for values, Int64 for class indices).</summary>
    public abstract ScalarType LabelType { get; }

    /// <summary>Mean loss over the batch; <paramref name="output"/> is the network's raw output for <paramref name="batch"/> (on the same device).</summary>
    public Tensor Loss(Tensor output, Batch batch) => Loss(output, batch.Labels, batch);

    /// <summary>Mean loss over the batch from its <paramref name="labels"/>; structured targets read <paramref name="batch"/>'s extras too.</summary>
    protected abstract Tensor Loss(Tensor output, Tensor labels, Batch batch);

    /// <summary>
    /// The network's output in one training step: <paramref name="input"/> is the features of <paramref name="batch"/> (both on
    /// the device) shaped for <paramref name="module"/>. By default the network sees the features alone, as in validation and
    /// scoring. An objective whose network also learns from the batch's targets in training overrides it (Faster R-CNN's box
    /// head samples its regions among the proposals and the true boxes, as torchvision does); the engine calls it only in
    /// training steps, never in validation passes.
    /// </summary>
    public virtual Tensor TrainingOutput(nn.Module<Tensor, Tensor> module, Tensor input, Batch batch) => module.forward(input);

    /// <summary>A fresh accumulator for one pass over a data set.</summary>
    public abstract MetricAccumulator CreateAccumulator();

    /// <summary>
    /// A fresh accumulator for one training pass, fed every training step's output: by default the same metrics as validation
    /// (<see cref="CreateAccumulator"/>). An objective whose metrics cost a noticeable share of a step (a detector decodes and
    /// matches every batch for mAP) may return a cheaper one, e.g. the loss alone (<c>new MetricAccumulator()</c>).
    /// </summary>
    public virtual MetricAccumulator CreateTrainingAccumulator() => CreateAccumulator();

    /// <summary>The batch's example weights (<see cref="Batch.WeightKey"/>), or null when every example weighs 1.</summary>
    protected static Tensor? ExampleWeights(Batch batch) => batch.Extras.TryGetValue(Batch.WeightKey, out var weights) ? weights : null;
}

/// <summary>Accumulates the example-weighted mean loss and task metrics over a pass.</summary>
internal class MetricAccumulator
{
    private double _lossSum;
    private long _count;

    /// <summary>Adds one batch: its mean loss, the outputs (detached) and the batch (on the outputs' device).</summary>
    public void Add(double meanLoss, Tensor output, Batch batch)
    {
        var n = batch.Count;
        _lossSum += meanLoss * n;
        _count += n;
        AddCore(meanLoss, output, batch);
    }

    /// <summary>Metric values by name; always contains <c>Loss</c>.</summary>
    public IReadOnlyDictionary<string, double> Result()
    {
        var result = new Dictionary<string, double> { ["Loss"] = _count == 0 ? double.NaN : _lossSum / _count };
        ResultCore(result, _count);
        return result;
    }

    /// <summary>Task metrics of one batch; <paramref name="meanLoss"/> is the batch's mean loss, already computed.</summary>
    protected virtual void AddCore(double meanLoss, Tensor output, Batch batch) => AddCore(output, batch.Labels);

    protected virtual void AddCore(Tensor output, Tensor labels)
    {
    }

    protected virtual void ResultCore(Dictionary<string, double> result, long count)
    {
    }
}

internal sealed class RegressionObjective : TrainingObjective
{
    private readonly RegressionLoss _loss;

    public RegressionObjective(RegressionLoss loss) => _loss = loss;

    public override ScalarType LabelType => ScalarType.Float32;

    protected override Tensor Loss(Tensor output, Tensor labels, Batch batch) => Losses.Regression(_loss, output.view(-1), labels, ExampleWeights(batch));

    public override MetricAccumulator CreateAccumulator() => new Accumulator();

    private sealed class Accumulator : MetricAccumulator
    {
        private double _absoluteSum;
        private double _squaredSum;

        protected override void AddCore(Tensor output, Tensor labels)
        {
            using var error = output.view(-1) - labels;
            using var absolute = error.abs().sum();
            using var squared = error.square().sum();
            _absoluteSum += absolute.ToDouble();
            _squaredSum += squared.ToDouble();
        }

        protected override void ResultCore(Dictionary<string, double> result, long count)
        {
            result["MeanAbsoluteError"] = _absoluteSum / count;
            result["RootMeanSquaredError"] = Math.Sqrt(_squaredSum / count);
        }
    }
}

internal sealed class BinaryObjective : TrainingObjective
{
    public override ScalarType LabelType => ScalarType.Float32;

    protected override Tensor Loss(Tensor output, Tensor labels, Batch batch) => Losses.BinaryCrossEntropy(output.view(-1), labels, ExampleWeights(batch));

    public override MetricAccumulator CreateAccumulator() => new AccuracyAccumulator(output => output.view(-1).gt(0).to_type(ScalarType.Float32));
}

internal sealed class MulticlassObjective : TrainingObjective
{
    private readonly Tensor? _classWeights;
    private readonly double _labelSmoothing;

    public MulticlassObjective(Tensor? classWeights, double labelSmoothing)
    {
        _classWeights = classWeights;
        _labelSmoothing = labelSmoothing;
    }

    public override ScalarType LabelType => ScalarType.Int64;

    protected override Tensor Loss(Tensor output, Tensor labels, Batch batch)
        => Losses.CategoricalCrossEntropy(output, labels, _classWeights, _labelSmoothing, ExampleWeights(batch));

    public override MetricAccumulator CreateAccumulator() => new AccuracyAccumulator(output => output.argmax(1));
}

internal sealed class AccuracyAccumulator : MetricAccumulator
{
    private readonly Func<Tensor, Tensor> _predict;
    private long _correct;

    public AccuracyAccumulator(Func<Tensor, Tensor> predict) => _predict = predict;

    protected override void AddCore(Tensor output, Tensor labels)
    {
        using var predicted = _predict(output);
        using var hits = predicted.eq(labels).sum();
        _correct += hits.ToInt64();
    }

    protected override void ResultCore(Dictionary<string, double> result, long count) => result["Accuracy"] = (double)_correct / count;
}

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
            if (Runtime.HostCopy.TryRead<float>(output, out var predicted) && Runtime.HostCopy.TryRead<float>(labels, out var actual)
                && predicted.Length == actual.Length)
            {
                // On the CPU the sums are read in place (in double): five tensor operations fewer per step.
                for (var i = 0; i < predicted.Length; i++)
                {
                    double e = predicted[i] - actual[i];
                    _absoluteSum += Math.Abs(e);
                    _squaredSum += e * e;
                }
                return;
            }
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

    public override MetricAccumulator CreateAccumulator() => AccuracyAccumulator.Binary();
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

    public override MetricAccumulator CreateAccumulator() => AccuracyAccumulator.Multiclass();
}

internal sealed class AccuracyAccumulator : MetricAccumulator
{
    private readonly Func<Tensor, Tensor> _predict;
    private readonly HostHits _hostHits;
    private long _correct;

    /// <summary>Counts correct predictions of a batch read in place on the CPU (<see cref="Runtime.HostCopy.TryRead{T}"/>); null when the tensors cannot be read so.</summary>
    private delegate long? HostHits(Tensor output, Tensor labels);

    private AccuracyAccumulator(Func<Tensor, Tensor> predict, HostHits hostHits)
    {
        _predict = predict;
        _hostHits = hostHits;
    }

    /// <summary>Accuracy of the argmax of (N, K) logits against class indices (N).</summary>
    public static AccuracyAccumulator Multiclass() => new(output => output.argmax(1), ArgmaxHits);

    /// <summary>Accuracy of logit &gt; 0 against 0/1 labels (N).</summary>
    public static AccuracyAccumulator Binary() => new(output => output.view(-1).gt(0).to_type(ScalarType.Float32), SignHits);

    protected override void AddCore(Tensor output, Tensor labels)
    {
        if (_hostHits(output, labels) is { } counted)
        {
            _correct += counted;
            return;
        }
        using var predicted = _predict(output);
        using var hits = predicted.eq(labels).sum();
        _correct += hits.ToInt64();
    }

    protected override void ResultCore(Dictionary<string, double> result, long count) => result["Accuracy"] = (double)_correct / count;

    private static long? ArgmaxHits(Tensor output, Tensor labels)
    {
        if (output.dim() != 2 || !Runtime.HostCopy.TryRead<float>(output, out var logits) || !Runtime.HostCopy.TryRead<long>(labels, out var classes)
            || output.shape[0] != classes.Length)
            return null;
        var width = (int)output.shape[1];
        long correct = 0;
        for (var row = 0; row < classes.Length; row++)
        {
            // torch.argmax's rule: the first maximum, NaN above everything.
            var values = logits.Slice(row * width, width);
            var best = 0;
            for (var k = 1; k < width && !float.IsNaN(values[best]); k++)
                if (values[k] > values[best] || float.IsNaN(values[k]))
                    best = k;
            if (best == classes[row])
                correct++;
        }
        return correct;
    }

    private static long? SignHits(Tensor output, Tensor labels)
    {
        if (!Runtime.HostCopy.TryRead<float>(output, out var logits) || !Runtime.HostCopy.TryRead<float>(labels, out var actual) || logits.Length != actual.Length)
            return null;
        long correct = 0;
        for (var i = 0; i < logits.Length; i++)
            if ((logits[i] > 0 ? 1f : 0f) == actual[i])
                correct++;
        return correct;
    }
}

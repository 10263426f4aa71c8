using System;
using System.Linq;
using ML.DeepExtensions.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Training;

/// <summary>
/// Issue 15: on the CPU the per-step metrics read a batch's outputs in place instead of running tensor operations. Both
/// paths must agree: a contiguous output takes the in-place path, the same values as a strided view take the tensor path.
/// </summary>
public class MetricAccumulatorTests
{
    /// <summary>The metrics of the same batches fed as contiguous outputs and as strided views of the same values.</summary>
    private static (double[] InPlace, double[] TensorOps) Both(TrainingObjective objective, Func<int, (Tensor Output, Tensor Labels)> batch, int batches, string[] metrics)
    {
        var inPlace = objective.CreateAccumulator();
        var tensorOps = objective.CreateAccumulator();
        for (var b = 0; b < batches; b++)
        {
            using var scope = NewDisposeScope();
            var (output, labels) = batch(b);
            Assert.True(output.is_contiguous());
            // Every other element of a doubled copy: same shape and values, not contiguous, so it cannot be read in place.
            var strided = stack([output, output], -1).select(-1, 0);
            Assert.False(strided.is_contiguous());
            Assert.Equal(output.data<float>().ToArray(), strided.contiguous().data<float>().ToArray());
            inPlace.Add(0.5, output, new Batch(output, labels));
            tensorOps.Add(0.5, strided, new Batch(strided, labels));
        }
        return (metrics.Select(m => inPlace.Result()[m]).ToArray(), metrics.Select(m => tensorOps.Result()[m]).ToArray());
    }

    [Fact]
    public void Regression_InPlaceSumsEqualTensorSums()
    {
        var (inPlace, ops) = Both(new RegressionObjective(RegressionLoss.MeanSquaredError), b =>
        {
            var generator = new Generator(seed: (ulong)b + 1);
            return (randn([37, 1], generator: generator) * 3, randn([37], generator: generator));
        }, batches: 5, ["MeanAbsoluteError", "RootMeanSquaredError", "Loss"]);
        Assert.True(inPlace[0] > 0.5, $"MAE {inPlace[0]}");
        for (var i = 0; i < inPlace.Length; i++)
            Assert.Equal(ops[i], inPlace[i], 5);
    }

    [Fact]
    public void Multiclass_InPlaceArgmaxFollowsTorchOnTiesAndNaN()
    {
        var (inPlace, ops) = Both(new MulticlassObjective(null, 0), b =>
        {
            var generator = new Generator(seed: (ulong)b + 11);
            // Rounded logits make ties common; torch.argmax takes the first maximum and treats NaN as the largest value.
            var logits = (randn([64, 5], generator: generator) * 2).round();
            logits[3, 4] = tensor(float.NaN);
            logits[7, 0] = tensor(float.NaN);
            logits[7, 2] = tensor(float.NaN);
            var labels = randint(0, 5, [64], dtype: ScalarType.Int64, generator: generator);
            labels[3] = tensor(4L);
            labels[7] = tensor(0L);
            return (logits, labels);
        }, batches: 4, ["Accuracy"]);
        Assert.InRange(inPlace[0], 0.2, 0.8);
        Assert.Equal(ops[0], inPlace[0]);
    }

    [Fact]
    public void Binary_InPlaceSignEqualsTensorSign()
    {
        var (inPlace, ops) = Both(new BinaryObjective(), b =>
        {
            var generator = new Generator(seed: (ulong)b + 21);
            var logits = randn([50], generator: generator);
            logits[0] = tensor(0f); // exactly 0 is predicted negative on both paths
            return (logits, randint(0, 2, [50], generator: generator).to_type(ScalarType.Float32));
        }, batches: 3, ["Accuracy"]);
        Assert.InRange(inPlace[0], 0.2, 0.8);
        Assert.Equal(ops[0], inPlace[0]);
    }
}

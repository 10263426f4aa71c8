using System;
using ML.DeepExtensions.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Training;

/// <summary>Each optimizer on f(w) = ½·w², whose gradient is w, starting at w = 1: values computed by hand.</summary>
public class OptimizerTests
{
    private const double Lr = 0.1;

    private static double[] Steps(TrainerOptions options, int steps)
    {
        Runtime.TorchRuntime.EnsureInitialized();
        using var w = new Parameter(torch.tensor(new[] { 1f }));
        using var optimizer = Optimizers.Create(options, [new[] { w }]);
        var values = new double[steps];
        for (var i = 0; i < steps; i++)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            (0.5 * w.square().sum()).backward();
            optimizer.step();
            values[i] = w.ToSingle();
        }
        return values;
    }

    private static TrainerOptions With(OptimizerKind kind) => new() { Optimizer = kind, LearningRate = Lr, Momentum = 0.9, RmsDecay = 0.99, WeightDecay = 0.5 };

    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.GradientDescent)]
    public void Sgd_StepsAgainstTheGradient(OptimizerKind kind)
    {
        var w = Steps(With(kind), 2);
        Assert.Equal(0.9, w[0], 6);        // 1 − 0.1·1
        Assert.Equal(0.81, w[1], 6);       // 0.9 − 0.1·0.9
    }

    [Fact]
    public void Momentum_AccumulatesVelocity()
    {
        var w = Steps(With(OptimizerKind.Momentum), 2);
        Assert.Equal(0.9, w[0], 6);                   // v = 1; w = 1 − 0.1
        Assert.Equal(0.9 - 0.1 * (0.9 * 1 + 0.9), w[1], 6); // v = 0.9·1 + 0.9; w = 0.9 − 0.1·1.8 = 0.72
    }

    [Fact]
    public void Nesterov_LooksAhead()
    {
        var w = Steps(With(OptimizerKind.Nesterov), 1);
        Assert.Equal(1 - 0.1 * (1 + 0.9 * 1), w[0], 6); // v = g = 1; w = 1 − lr·(g + μ·v) = 0.81
    }

    [Fact]
    public void RMSprop_DividesByRootMeanSquare()
    {
        var w = Steps(With(OptimizerKind.RMSprop), 1);
        var s = (1 - 0.99) * 1.0;                  // s = α·0 + (1−α)·g²
        Assert.Equal(1 - 0.1 * 1 / (Math.Sqrt(s) + 1e-8), w[0], 5); // = 0
    }

    [Fact]
    public void Adam_FirstStepMovesByTheLearningRate()
    {
        var w = Steps(With(OptimizerKind.Adam), 2);
        Assert.Equal(0.9, w[0], 5);  // bias-corrected m̂ = g, v̂ = g² ⇒ step = lr·g/|g|
        // Step 2: g = 0.9; m = 0.9·0.1 + 0.1·0.9 = 0.18, v = 0.999·0.001 + 0.001·0.81 = 0.001809
        var mHat = 0.18 / (1 - 0.81);
        var vHat = 0.001809 / (1 - 0.999 * 0.999);
        Assert.Equal(0.9 - 0.1 * mHat / (Math.Sqrt(vHat) + 1e-8), w[1], 5);
    }

    [Fact]
    public void AdamW_DecaysWeightsDecoupled()
    {
        var w = Steps(With(OptimizerKind.AdamW), 1);
        Assert.Equal(1 * (1 - 0.1 * 0.5) - 0.1, w[0], 5); // w·(1 − lr·λ) − lr·m̂/√v̂ = 0.85
    }
}

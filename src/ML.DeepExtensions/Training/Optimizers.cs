using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>The update rule applied after each batch's backward pass.</summary>
public enum OptimizerKind
{
    /// <summary>Plain gradient descent on the whole training set per step (the batch size is ignored).</summary>
    GradientDescent,
    /// <summary>Stochastic gradient descent on mini-batches: w ← w − lr·g.</summary>
    Sgd,
    /// <summary>SGD with (heavy-ball) momentum: v ← μ·v + g; w ← w − lr·v.</summary>
    Momentum,
    /// <summary>SGD with Nesterov momentum: v ← μ·v + g; w ← w − lr·(g + μ·v).</summary>
    Nesterov,
    /// <summary>RMSprop: s ← α·s + (1−α)·g²; w ← w − lr·g/(√s + ε).</summary>
    RMSprop,
    /// <summary>Adam with bias-corrected first and second moments.</summary>
    Adam,
    /// <summary>Adam with decoupled weight decay.</summary>
    AdamW,
}

/// <summary>Creates TorchSharp optimizers from <see cref="TrainerOptions"/>.</summary>
internal static class Optimizers
{
    /// <summary>
    /// One optimizer over parameter groups; group i's learning rate is the scheduled rate times
    /// <c>factors[i]</c> (see <see cref="SetLearningRate"/>). A single group is the plain optimizer.
    /// </summary>
    public static OptimizerHelper Create(TrainerOptions options, IReadOnlyList<IReadOnlyList<Parameter>> groups)
    {
        if (groups.Count == 1)
            return Create(options, groups[0]);
        var lr = options.LearningRate;
        return options.Optimizer switch
        {
            OptimizerKind.GradientDescent or OptimizerKind.Sgd => optim.SGD(groups.Select(g => new SGD.ParamGroup(g, lr, 0, 0, 0, false, false)), lr),
            OptimizerKind.Momentum => optim.SGD(groups.Select(g => new SGD.ParamGroup(g, lr, options.Momentum, 0, 0, false, false)), lr, momentum: options.Momentum),
            OptimizerKind.Nesterov => optim.SGD(groups.Select(g => new SGD.ParamGroup(g, lr, options.Momentum, 0, 0, true, false)), lr, momentum: options.Momentum, nesterov: true),
            OptimizerKind.RMSprop => optim.RMSProp(groups.Select(g => new RMSProp.ParamGroup(g, lr, options.Epsilon, options.RmsDecay, 0, 0, false)), lr, alpha: options.RmsDecay, eps: options.Epsilon),
            OptimizerKind.Adam => optim.Adam(groups.Select(g => new Adam.ParamGroup(g, lr, options.Beta1, options.Beta2, options.Epsilon, 0, false, false)), lr, options.Beta1, options.Beta2, options.Epsilon),
            OptimizerKind.AdamW => optim.AdamW(groups.Select(g => new AdamW.ParamGroup(g, lr, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay, false, false)), lr, options.Beta1, options.Beta2, options.Epsilon, weight_decay: options.WeightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "Unknown optimizer."),
        };
    }

    private static OptimizerHelper Create(TrainerOptions options, IEnumerable<Parameter> parameters)
    {
        var lr = options.LearningRate;
        return options.Optimizer switch
        {
            OptimizerKind.GradientDescent or OptimizerKind.Sgd => optim.SGD(parameters, lr),
            OptimizerKind.Momentum => optim.SGD(parameters, lr, momentum: options.Momentum),
            OptimizerKind.Nesterov => optim.SGD(parameters, lr, momentum: options.Momentum, nesterov: true),
            OptimizerKind.RMSprop => optim.RMSProp(parameters, lr, alpha: options.RmsDecay, eps: options.Epsilon),
            OptimizerKind.Adam => optim.Adam(parameters, lr, options.Beta1, options.Beta2, options.Epsilon),
            OptimizerKind.AdamW => optim.AdamW(parameters, lr, options.Beta1, options.Beta2, options.Epsilon, weight_decay: options.WeightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "Unknown optimizer."),
        };
    }

    /// <summary>Sets the learning rate of parameter group i to <paramref name="learningRate"/> × <paramref name="factors"/>[i].</summary>
    public static void SetLearningRate(optim.Optimizer optimizer, double learningRate, IReadOnlyList<double> factors)
    {
        var i = 0;
        foreach (var group in optimizer.ParamGroups)
            group.LearningRate = learningRate * factors[i++];
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>Everything one training run needs. The module is already built (seeded) and on <see cref="Device"/>.</summary>
internal sealed record TrainingRequest(
    nn.Module<Tensor, Tensor> Module,
    string NetworkFingerprint,
    TrainingObjective Objective,
    BatchSource Training,
    BatchSource? Validation,
    TrainerOptions Options,
    Device Device,
    int Seed,
    IChannel Channel,
    IReadOnlyList<TorchSharp.Modules.Parameter>? Backbone = null,
    int[]? InputShape = null);

/// <summary>
/// The task-agnostic training engine: epochs of shuffled batches, one dispose scope per step, loss plus
/// regularization, backward, clipping, optimizer step with a scheduled learning rate; at each epoch end the
/// whole validation set is scored, progress is reported, early stopping and plateau reduction are decided,
/// best weights are kept and a checkpoint is written.
/// </summary>
internal static class TrainingLoop
{
    public static IReadOnlyList<EpochMetrics> Run(TrainingRequest request)
    {
        var (module, _, objective, training, validation, options, device, seed, channel, backbone, inputShape) = request;
        var early = options.EarlyStopping;
        var earlyMonitor = early is null ? null : new MetricMonitor(early.Monitor);
        var plateau = options.Schedule as ReduceOnPlateauSchedule;
        if (validation is null && (earlyMonitor?.NeedsValidation == true || plateau?.Monitor.NeedsValidation == true))
            throw new ArgumentException(
                $"The monitored metric '{earlyMonitor?.Name ?? plateau!.Monitor.Name}' needs validation data: set ValidationSet or ValidationFraction, or monitor a Training metric.");

        var batchSize = options.Optimizer == OptimizerKind.GradientDescent ? int.MaxValue : options.BatchSize;
        var weights = module.parameters().Where(p => p.dim() > 1).ToArray();
        var (groups, factors) = ParameterGroups(module, backbone, options);
        using var optimizer = Optimizers.Create(options, groups);

        var history = new List<EpochMetrics>();
        var bestValue = double.NaN;
        var bestEpoch = 0;
        var plateauFactor = 1.0;
        var plateauWait = 0;
        Dictionary<string, Tensor>? bestWeights = null;
        var startEpoch = 0;
        if (options.ResumeFromCheckpoint is { } resume)
        {
            var checkpoint = Checkpoint.Load(resume, request.NetworkFingerprint, module, optimizer, out bestWeights);
            history.AddRange(checkpoint.History);
            (startEpoch, bestValue, bestEpoch, plateauFactor, plateauWait) =
                (checkpoint.CompletedEpochs, checkpoint.BestValue, checkpoint.BestEpoch, checkpoint.PlateauFactor, checkpoint.PlateauWait);
            channel.Info($"Resumed from '{resume}' after epoch {startEpoch}.");
        }

        var stepsPerEpoch = training.Count is { } n ? (int)Math.Ceiling(n / (double)Math.Min(batchSize, n)) : 0;
        try
        {
            for (var epoch = startEpoch; epoch < options.Epochs; epoch++)
            {
                var clock = Stopwatch.StartNew();
                // One stream per epoch (not HashCode: it is salted per process), so a resumed run shuffles like an uninterrupted one.
                var epochShuffle = options.Shuffle ? new Random(unchecked(seed * 1_000_003 + epoch)) : null;
                module.train();
                FreezeBackbone(backbone, frozen: epoch < options.FreezeBackboneEpochs, epoch, channel);
                if (epoch < options.FreezeBackboneEpochs)
                    FrozenBatchNormsToInference(module, backbone);
                var trainMetrics = objective.CreateAccumulator();
                var step = 0;
                var learningRate = options.LearningRate;
                foreach (var batch in training.Batches(batchSize, epochShuffle, options.CancellationToken))
                {
                    using var owned = batch;
                    options.CancellationToken.ThrowIfCancellationRequested();
                    using var scope = torch.NewDisposeScope();
                    var progress = stepsPerEpoch > 0 ? (double)step / stepsPerEpoch : 0;
                    learningRate = LearningRateAt(options, plateauFactor, epoch, progress);
                    Optimizers.SetLearningRate(optimizer, learningRate, factors);

                    var onDevice = batch.To(device);
                    optimizer.zero_grad();
                    var output = module.forward(Shaped(onDevice.Features, inputShape));
                    var loss = objective.Loss(output, onDevice);
                    var lossValue = loss.ToDouble();
                    if (!double.IsFinite(lossValue))
                        throw new TrainingDivergedException(epoch + 1, step + 1, lossValue);
                    var total = AddPenalties(loss, weights, options);
                    total.backward();
                    if (options.GradientClipNorm is { } clip)
                        nn.utils.clip_grad_norm_(module.parameters(), clip);
                    optimizer.step();
                    using (torch.no_grad())
                        trainMetrics.Add(lossValue, output.detach(), onDevice);
                    step++;
                }
                if (stepsPerEpoch == 0)
                    stepsPerEpoch = step;

                var validationMetrics = validation is null
                    ? new Dictionary<string, double>()
                    : Evaluate(module, objective, validation, options.ScoringBatchSize, device, options, inputShape);
                var metrics = new EpochMetrics(epoch + 1, trainMetrics.Result(), validationMetrics, learningRate, clock.Elapsed);
                history.Add(metrics);
                channel.Info(metrics.ToString());
                options.Progress?.Report(metrics);

                var stop = false;
                if (early is not null && earlyMonitor is not null)
                {
                    var value = earlyMonitor.Read(metrics);
                    if (earlyMonitor.Improves(value, bestValue, early.MinDelta))
                    {
                        (bestValue, bestEpoch) = (value, epoch + 1);
                        if (early.RestoreBestWeights)
                            Snapshot(module, ref bestWeights);
                    }
                    else if (epoch + 1 - bestEpoch >= early.Patience)
                    {
                        channel.Info($"Early stopping after epoch {epoch + 1}: {early.Monitor} has not improved for {early.Patience} epochs (best {bestValue:G5} at epoch {bestEpoch}).");
                        stop = true;
                    }
                }
                if (plateau is not null)
                    (plateauFactor, plateauWait) = UpdatePlateau(plateau, metrics, history, plateauFactor, plateauWait, channel);

                if (options.CheckpointDirectory is { } directory)
                {
                    new Checkpoint
                    {
                        Network = request.NetworkFingerprint,
                        CompletedEpochs = epoch + 1,
                        History = history,
                        BestValue = bestValue,
                        BestEpoch = bestEpoch,
                        PlateauFactor = plateauFactor,
                        PlateauWait = plateauWait,
                    }.Save(directory, module, optimizer, bestWeights);
                }
                if (stop)
                    break;
            }

            if (early is { RestoreBestWeights: true } && bestWeights is not null && bestEpoch != history.Count)
            {
                module.load_state_dict(bestWeights);
                channel.Info($"Restored the weights of epoch {bestEpoch} ({early.Monitor} = {bestValue:G5}).");
            }
        }
        finally
        {
            DisposeAll(bestWeights);
            FreezeBackbone(backbone, frozen: false, epoch: -1, channel: null);
        }
        module.eval();
        return history;
    }

    /// <summary>Batch rows (batch, n) viewed as (batch, <paramref name="inputShape"/>…) when a shape is declared.</summary>
    private static Tensor Shaped(Tensor features, int[]? inputShape)
        => inputShape is null || inputShape.Length == 1 ? features : features.view(Networks.Shape.WithBatch(features.shape[0], inputShape));

    /// <summary>One group of all parameters, or (backbone, head) when the backbone learns at a different rate.</summary>
    private static (IReadOnlyList<IReadOnlyList<TorchSharp.Modules.Parameter>> Groups, double[] Factors) ParameterGroups(
        nn.Module module, IReadOnlyList<TorchSharp.Modules.Parameter>? backbone, TrainerOptions options)
    {
        var all = module.parameters().ToArray();
        if (backbone is null || options.BackboneLearningRateFactor == 1)
            return ([all], [1.0]);
        var inBackbone = backbone.Select(p => p.Handle).ToHashSet();
        var head = all.Where(p => !inBackbone.Contains(p.Handle)).ToArray();
        return ([backbone, head], [options.BackboneLearningRateFactor, 1.0]);
    }

    /// <summary>
    /// Batch norms of a frozen backbone run in inference mode: they normalise with their running statistics and do not
    /// update them (as Keras does for non-trainable layers). A frozen backbone then computes exactly the function it was
    /// loaded with — pretrained features stay those of the source model — instead of re-estimating statistics from a few
    /// batches of the new data and feeding the output layer batch statistics in training but running ones when scoring.
    /// </summary>
    private static void FrozenBatchNormsToInference(nn.Module module, IReadOnlyList<TorchSharp.Modules.Parameter>? backbone)
    {
        if (backbone is null || backbone.Count == 0)
            return;
        var frozen = backbone.Select(p => p.Handle).ToHashSet();
        foreach (var (_, child) in module.named_modules())
        {
            if (child is TorchSharp.Modules.BatchNorm1d or TorchSharp.Modules.BatchNorm2d or TorchSharp.Modules.BatchNorm3d
                && child.parameters(recurse: false).Any(p => frozen.Contains(p.Handle)))
                child.eval();
        }
    }

    /// <summary>Turns gradients of the backbone off or on (only when the state changes, logging it).</summary>
    private static void FreezeBackbone(IReadOnlyList<TorchSharp.Modules.Parameter>? backbone, bool frozen, int epoch, IChannel? channel)
    {
        if (backbone is null || backbone.Count == 0 || backbone[0].requires_grad != frozen)
            return;
        foreach (var parameter in backbone)
            parameter.requires_grad_(!frozen);
        if (channel is not null)
            channel.Info(frozen ? $"Epoch {epoch + 1}: backbone frozen, only the output layer learns." : $"Epoch {epoch + 1}: backbone unfrozen.");
    }

    /// <summary>Metrics over the whole of <paramref name="data"/>, in evaluation mode, without gradients.</summary>
    public static Dictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> module, TrainingObjective objective, BatchSource data, int batchSize, Device device, TrainerOptions options, int[]? inputShape = null)
    {
        module.eval();
        var accumulator = objective.CreateAccumulator();
        using (torch.no_grad())
        {
            foreach (var batch in data.Batches(batchSize, shuffle: null, options.CancellationToken))
            {
                using var owned = batch;
                using var scope = torch.NewDisposeScope();
                var onDevice = batch.To(device);
                var output = module.forward(Shaped(onDevice.Features, inputShape));
                using var loss = objective.Loss(output, onDevice);
                accumulator.Add(loss.ToDouble(), output, onDevice);
            }
        }
        return new Dictionary<string, double>(accumulator.Result());
    }

    internal static double LearningRateAt(TrainerOptions options, double plateauFactor, int epoch, double epochProgress)
    {
        var rate = options.LearningRate * plateauFactor * options.Schedule.Multiplier(epoch, epochProgress, options.Epochs);
        if (options.WarmupEpochs > 0)
            rate *= Math.Min(1, (epoch + epochProgress) / options.WarmupEpochs);
        return rate;
    }

    private static Tensor AddPenalties(Tensor loss, Tensor[] weights, TrainerOptions options)
    {
        var total = loss;
        if (options.L1 > 0)
            total = total + options.L1 * weights.Select(w => w.abs().sum()).Aggregate((a, b) => a + b);
        if (options.L2 > 0)
            total = total + options.L2 * weights.Select(w => w.square().sum()).Aggregate((a, b) => a + b);
        return total;
    }

    private static (double Factor, int Wait) UpdatePlateau(ReduceOnPlateauSchedule plateau, EpochMetrics metrics, List<EpochMetrics> history, double factor, int wait, IChannel channel)
    {
        var value = plateau.Monitor.Read(metrics);
        var best = history.Take(history.Count - 1).Select(plateau.Monitor.Read).DefaultIfEmpty(double.NaN)
            .Aggregate(double.NaN, (b, v) => plateau.Monitor.Improves(v, b, 0) ? v : b);
        if (plateau.Monitor.Improves(value, best, 0))
            return (factor, 0);
        if (++wait < plateau.Patience)
            return (factor, wait);
        var reduced = Math.Max(plateau.MinFactor, factor * plateau.Factor);
        if (reduced < factor)
            channel.Info($"{plateau.Monitor.Name} has not improved for {plateau.Patience} epochs: learning-rate factor {factor:G3} → {reduced:G3}.");
        return (reduced, 0);
    }

    private static void Snapshot(nn.Module module, ref Dictionary<string, Tensor>? snapshot)
    {
        DisposeAll(snapshot);
        using (torch.no_grad())
        {
            snapshot = module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().MoveToOuterDisposeScope());
        }
    }

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null)
            return;
        foreach (var t in tensors.Values)
            t.Dispose();
    }
}

/// <summary>Thrown when the training loss becomes NaN or infinite.</summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    internal TrainingDivergedException(int epoch, int step, double loss)
        : base($"Training diverged: the loss became {loss} at epoch {epoch}, batch {step}. " +
               "Lower the learning rate, enable GradientClipNorm, or normalize the features (e.g. mlContext.Transforms.NormalizeMinMax).")
    {
        Epoch = epoch;
        Step = step;
    }

    /// <summary>One-based epoch where the loss diverged.</summary>
    public int Epoch { get; }

    /// <summary>One-based batch within that epoch.</summary>
    public int Step { get; }
}

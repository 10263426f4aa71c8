using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Runtime;
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
    int[]? InputShape = null,
    Generator? Generator = null);

/// <summary>
/// The task-agnostic training engine: epochs of shuffled batches, one dispose scope per step, loss plus
/// regularization, backward, clipping, optimizer step with a scheduled learning rate; at each epoch end the
/// whole validation set is scored, progress is reported, early stopping and plateau reduction are decided,
/// best weights are kept and a checkpoint is written.
/// </summary>
/// <remarks>
/// Trust checks, none of which adds a host synchronisation to a step: the loss each step already reads must be finite
/// and must not have grown beyond <see cref="ExplosionFactor"/> × the run's first loss; at each epoch end every weight
/// and running statistic must be finite (one read for the whole network). A network with batch norm never trains on a
/// final batch of one row (<see cref="TrainerOptions.BatchSize"/>).
/// </remarks>
internal static class TrainingLoop
{
    /// <summary>Logs a decision and reports it to the callback.</summary>
    private delegate void Decision(TrainingDecisionKind kind, int epoch, string message);

    /// <summary>A loss this many times the run's first loss is divergence, even while it is still finite.</summary>
    internal const double ExplosionFactor = 1e6;

    /// <summary>
    /// The floor of the reference loss in the explosion check, so that a run starting at a loss of ~0 is not stopped by
    /// ordinary noise: the check is then loss &gt; <see cref="ExplosionFactor"/> × this.
    /// </summary>
    private const double MinReferenceLoss = 1e-3;

    public static IReadOnlyList<EpochMetrics> Run(TrainingRequest request)
    {
        var (module, _, objective, training, validation, options, device, seed, channel, backbone, inputShape, generator) = request;
        // The user's token or the end of the process (ProcessExitGuard) stops training between batches.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken, ProcessExitGuard.Token);
        var cancellation = stopping.Token;
        var early = options.EarlyStopping;
        var callback = options.Callback;
        void Decide(TrainingDecisionKind kind, int epochNumber, string message)
        {
            channel.Info(message);
            callback?.OnDecision(new TrainingDecision(kind, epochNumber, message));
        }
        var earlyMonitor = early is null ? null : new MetricMonitor(early.Monitor);
        var plateau = options.Schedule as ReduceOnPlateauSchedule;
        if (validation is null && (earlyMonitor?.NeedsValidation == true || plateau?.Monitor.NeedsValidation == true))
            throw new ArgumentException(
                $"The monitored metric '{earlyMonitor?.Name ?? plateau!.Monitor.Name}' needs validation data: set ValidationSet or ValidationFraction, or monitor a Training metric.");

        var batchSize = options.Optimizer == OptimizerKind.GradientDescent ? int.MaxValue : options.BatchSize;
        var noSingleRowBatch = HasBatchNorm(module);
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
        var referenceLoss = double.NaN;
        if (options.ResumeFromCheckpoint is { } resume)
        {
            var checkpoint = Checkpoint.Load(resume, request.NetworkFingerprint, module, optimizer, generator, out bestWeights);
            CheckResumable(checkpoint, resume, options.Epochs);
            history.AddRange(checkpoint.History);
            (startEpoch, bestValue, bestEpoch, plateauFactor, plateauWait, referenceLoss) =
                (checkpoint.CompletedEpochs, checkpoint.BestValue, checkpoint.BestEpoch, checkpoint.PlateauFactor, checkpoint.PlateauWait, checkpoint.ReferenceLoss);
            Decide(TrainingDecisionKind.Resumed, startEpoch, $"Resumed from '{resume}' after epoch {startEpoch}.");
        }
        var explosionThreshold = double.IsNaN(referenceLoss) ? double.PositiveInfinity : ExplosionFactor * Math.Max(referenceLoss, MinReferenceLoss);

        var stepsPerEpoch = training.Count is { } n ? BatchSource.StepsPerPass(n, batchSize, noSingleRowBatch) : 0;
        var appliedLearningRate = double.NaN;
        try
        {
            for (var epoch = startEpoch; epoch < options.Epochs; epoch++)
            {
                var clock = Stopwatch.StartNew();
                // One stream per epoch (not HashCode: it is salted per process), so a resumed run shuffles like an uninterrupted one.
                var epochShuffle = options.Shuffle ? new Random(unchecked(seed * 1_000_003 + epoch)) : null;
                module.train();
                FreezeBackbone(backbone, frozen: epoch < options.FreezeBackboneEpochs, epoch, Decide);
                if (epoch < options.FreezeBackboneEpochs)
                    FrozenBatchNormsToInference(module, backbone);
                var trainMetrics = objective.CreateTrainingAccumulator();
                var step = 0;
                var learningRate = options.LearningRate;
                foreach (var batch in training.Batches(batchSize, epochShuffle, cancellation, noSingleRowBatch))
                {
                    using var owned = batch;
                    cancellation.ThrowIfCancellationRequested();
                    using var scope = torch.NewDisposeScope();
                    var progress = stepsPerEpoch > 0 ? (double)step / stepsPerEpoch : 0;
                    learningRate = LearningRateAt(options, plateauFactor, epoch, progress);
                    if (learningRate != appliedLearningRate)
                    {
                        // Written only when the schedule changes it (a constant rate is set once per run).
                        Optimizers.SetLearningRate(optimizer, learningRate, factors);
                        appliedLearningRate = learningRate;
                    }

                    var onDevice = batch.To(device);
                    optimizer.zero_grad();
                    var output = Forward(objective, module, Shaped(onDevice.Features, inputShape), onDevice, options.Precision, device);
                    var loss = objective.Loss(output, onDevice);
                    var lossValue = loss.ToDouble();
                    if (!double.IsFinite(lossValue))
                        throw new TrainingDivergedException(epoch + 1, step + 1, lossValue);
                    if (lossValue > explosionThreshold)
                        throw TrainingDivergedException.Explosive(epoch + 1, step + 1, lossValue, referenceLoss);
                    if (double.IsNaN(referenceLoss))
                    {
                        referenceLoss = lossValue;
                        explosionThreshold = ExplosionFactor * Math.Max(referenceLoss, MinReferenceLoss);
                    }
                    var total = AddPenalties(loss, weights, options);
                    total.backward();
                    if (options.GradientClipNorm is { } clip)
                        nn.utils.clip_grad_norm_(module.parameters(), clip);
                    optimizer.step();
                    using (torch.no_grad())
                        trainMetrics.Add(lossValue, output.detach(), onDevice);
                    step++;
                    callback?.OnBatchEnd(new BatchProgress(epoch + 1, options.Epochs, step, stepsPerEpoch > 0 ? stepsPerEpoch : null, batch.Count, lossValue, learningRate, clock.Elapsed));
                }
                if (stepsPerEpoch == 0)
                    stepsPerEpoch = step;
                CheckFinite(module, epoch + 1, step);

                var validationMetrics = validation is null
                    ? new Dictionary<string, double>()
                    : Evaluate(module, objective, validation, options.ScoringBatchSize, device, cancellation, inputShape);
                var metrics = new EpochMetrics(epoch + 1, trainMetrics.Result(), validationMetrics, learningRate, clock.Elapsed);
                history.Add(metrics);
                channel.Info(metrics.ToString());
                options.Progress?.Report(metrics);
                callback?.OnEpochEnd(metrics);

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
                        Decide(TrainingDecisionKind.EarlyStopped, epoch + 1, $"Early stopping after epoch {epoch + 1}: {early.Monitor} has not improved for {early.Patience} epochs (best {bestValue:G5} at epoch {bestEpoch}).");
                        stop = true;
                    }
                }
                if (plateau is not null)
                    (plateauFactor, plateauWait) = UpdatePlateau(plateau, metrics, history, plateauFactor, plateauWait, Decide);

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
                        ReferenceLoss = referenceLoss,
                    }.Save(directory, module, optimizer, bestWeights, generator);
                }
                if (stop)
                    break;
            }

            if (early is { RestoreBestWeights: true } && bestWeights is not null && bestEpoch != history.Count)
            {
                module.load_state_dict(bestWeights);
                Decide(TrainingDecisionKind.RestoredBestWeights, bestEpoch, $"Restored the weights of epoch {bestEpoch} ({early.Monitor} = {bestValue:G5}).");
            }
        }
        finally
        {
            DisposeAll(bestWeights);
            FreezeBackbone(backbone, frozen: false, epoch: -1, decide: null);
        }
        module.eval();
        return history;
    }

    /// <summary>Batch rows (batch, n) viewed as (batch, <paramref name="inputShape"/>…) when a shape is declared.</summary>
    private static Tensor Shaped(Tensor features, int[]? inputShape)
        => inputShape is null || inputShape.Length == 1 ? features : features.view(Networks.Shape.WithBatch(features.shape[0], inputShape));

    /// <summary>
    /// One group of all parameters; or (backbone, head) when the backbone learns at a different rate; or, with layer-wise
    /// decay, one group per backbone block (<see cref="BackboneBlocks"/>) from the input up, then the head.
    /// </summary>
    internal static (IReadOnlyList<IReadOnlyList<TorchSharp.Modules.Parameter>> Groups, double[] Factors) ParameterGroups(
        nn.Module module, IReadOnlyList<TorchSharp.Modules.Parameter>? backbone, TrainerOptions options)
    {
        var all = module.parameters().ToArray();
        var decay = options.LayerwiseLearningRateDecay;
        if (backbone is null || backbone.Count == 0 || (options.BackboneLearningRateFactor == 1 && decay == 1))
            return ([all], [1.0]);
        var inBackbone = backbone.Select(p => p.Handle).ToHashSet();
        var head = all.Where(p => !inBackbone.Contains(p.Handle)).ToArray();
        if (decay == 1)
            return ([backbone, head], [options.BackboneLearningRateFactor, 1.0]);
        var blocks = BackboneBlocks(module, inBackbone);
        var factors = blocks.Select((_, i) => options.BackboneLearningRateFactor * Math.Pow(decay, blocks.Count - i)).Append(1.0).ToArray();
        return ([.. blocks, head], factors);
    }

    /// <summary>
    /// The backbone's parameters by block, from the input up: a parameter's block is its name up to the first numbered
    /// component below the top-level layer (<c>0.blocks.3.query.weight</c> → <c>0.blocks.3</c>), else its top-level layer
    /// (<c>0.embeddings.word.weight</c> → <c>0</c>, <c>2.weight</c> → <c>2</c>); blocks are ordered by first appearance.
    /// </summary>
    internal static IReadOnlyList<IReadOnlyList<TorchSharp.Modules.Parameter>> BackboneBlocks(nn.Module module, IReadOnlySet<IntPtr> backbone)
    {
        var blocks = new List<(string Key, List<TorchSharp.Modules.Parameter> Parameters)>();
        foreach (var (name, parameter) in module.named_parameters())
        {
            if (!backbone.Contains(parameter.Handle))
                continue;
            var parts = name.Split('.');
            var numbered = Array.FindIndex(parts, 1, p => p.Length > 0 && p.All(char.IsAsciiDigit));
            var key = numbered < 0 ? parts[0] : string.Join('.', parts[..(numbered + 1)]);
            var block = blocks.FindIndex(b => b.Key == key);
            if (block < 0)
                blocks.Add((key, [parameter]));
            else
                blocks[block].Parameters.Add(parameter);
        }
        return blocks.Select(b => (IReadOnlyList<TorchSharp.Modules.Parameter>)b.Parameters).ToArray();
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
            if (child is TorchSharp.Modules.BatchNorm
                && child.parameters(recurse: false).Any(p => frozen.Contains(p.Handle)))
                child.eval();
        }
    }

    /// <summary>Turns gradients of the backbone off or on (only when the state changes, logging it).</summary>
    private static void FreezeBackbone(IReadOnlyList<TorchSharp.Modules.Parameter>? backbone, bool frozen, int epoch, Decision? decide)
    {
        if (backbone is null || backbone.Count == 0 || backbone[0].requires_grad != frozen)
            return;
        foreach (var parameter in backbone)
            parameter.requires_grad_(!frozen);
        if (frozen)
            decide?.Invoke(TrainingDecisionKind.BackboneFrozen, epoch + 1, $"Epoch {epoch + 1}: backbone frozen, only the output layer learns.");
        else
            decide?.Invoke(TrainingDecisionKind.BackboneUnfrozen, epoch + 1, $"Epoch {epoch + 1}: backbone unfrozen.");
    }

    /// <summary>Whether <paramref name="module"/> normalises with batch statistics (any batch norm, at any depth).</summary>
    private static bool HasBatchNorm(nn.Module module)
        => module.modules().Any(m => m is TorchSharp.Modules.BatchNorm);

    /// <summary>A checkpoint of more epochs than <paramref name="epochs"/> cannot be continued to <paramref name="epochs"/>.</summary>
    internal static void CheckResumable(Checkpoint checkpoint, string directory, int epochs)
    {
        if (checkpoint.CompletedEpochs > epochs)
            throw new ArgumentException(
                $"ResumeFromCheckpoint '{directory}' holds {checkpoint.CompletedEpochs} completed epochs, more than Epochs; expected Epochs ≥ {checkpoint.CompletedEpochs} " +
                $"(Epochs counts all epochs, those in the checkpoint included). Received: Epochs={epochs}", nameof(TrainerOptions.Epochs));
    }

    /// <summary>
    /// The training step's forward pass, inside an autocast region for <see cref="TrainingPrecision.MixedBFloat16"/>; the
    /// output comes back as float32, so the loss and the metrics (read on the host in place) see float32 either way.
    /// </summary>
    private static Tensor Forward(TrainingObjective objective, nn.Module<Tensor, Tensor> module, Tensor input, Batch batch, TrainingPrecision precision, Device device)
    {
        Tensor output;
        using (Autocast.Enter(precision, device))
            output = objective.TrainingOutput(module, input, batch);
        return output.dtype == ScalarType.BFloat16 ? output.to(ScalarType.Float32) : output;
    }

    /// <summary>
    /// Throws <see cref="TrainingDivergedException"/> naming the first weight or running statistic that holds NaN or ∞.
    /// One host read for the whole network; only at epoch ends.
    /// </summary>
    private static void CheckFinite(nn.Module module, int epoch, int steps)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var state = module.state_dict().Where(kv => kv.Value.is_floating_point()).ToArray();
        if (state.Length == 0 || torch.stack(state.Select(kv => kv.Value.isfinite().all()).ToArray()).all().item<bool>())
            return;
        var (name, tensor) = state.First(kv => !kv.Value.isfinite().all().item<bool>());
        var kind = tensor.isnan().any().item<bool>() ? "NaN" : "∞";
        throw TrainingDivergedException.NonFiniteState(epoch, steps, name, kind, IsRunningStatistic(name));
    }

    private static bool IsRunningStatistic(string name) => name.EndsWith("running_mean", StringComparison.Ordinal) || name.EndsWith("running_var", StringComparison.Ordinal);

    /// <summary>Metrics over the whole of <paramref name="data"/>, in evaluation mode, without gradients.</summary>
    public static Dictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> module, TrainingObjective objective, BatchSource data, int batchSize, Device device, CancellationToken cancellation, int[]? inputShape = null)
    {
        module.eval();
        var accumulator = objective.CreateAccumulator();
        using (torch.no_grad())
        {
            foreach (var batch in data.Batches(batchSize, shuffle: null, cancellation))
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

    private static (double Factor, int Wait) UpdatePlateau(ReduceOnPlateauSchedule plateau, EpochMetrics metrics, List<EpochMetrics> history, double factor, int wait, Decision decide)
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
            decide(TrainingDecisionKind.LearningRateReduced, metrics.Epoch, $"{plateau.Monitor.Name} has not improved for {plateau.Patience} epochs: learning-rate factor {factor:G3} → {reduced:G3}.");
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

/// <summary>
/// Thrown when training diverges: the loss becomes NaN or infinite, the loss grows explosively (beyond a million times the
/// run's first loss) while still finite, or a weight or running statistic (e.g. a batch norm's <c>running_var</c>) holds
/// NaN or ∞ at the end of an epoch. No model is returned.
/// </summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    private const string Advice = "Lower the learning rate, enable GradientClipNorm, or normalize the features (e.g. mlContext.Transforms.NormalizeMinMax).";

    internal TrainingDivergedException(int epoch, int step, double loss)
        : this(epoch, step, $"Training diverged: the loss became {loss} at epoch {epoch}, batch {step}. {Advice}")
    {
    }

    private TrainingDivergedException(int epoch, int step, string message)
        : base(message)
    {
        Epoch = epoch;
        Step = step;
    }

    internal static TrainingDivergedException Explosive(int epoch, int step, double loss, double reference)
        => new(epoch, step, string.Create(CultureInfo.InvariantCulture,
            $"Training diverged: the loss grew to {loss:G4} at epoch {epoch}, batch {step}, more than {TrainingLoop.ExplosionFactor:G0} times the first batch's loss ({reference:G4}); " +
            $"expected a loss that stays within that bound. {Advice}"));

    internal static TrainingDivergedException NonFiniteState(int epoch, int steps, string tensor, string value, bool runningStatistic)
        => new(epoch, steps,
            $"Training diverged: after epoch {epoch} ({steps} batches) the network's '{tensor}' holds {value}; expected finite weights and statistics. " +
            (runningStatistic
                ? "A batch norm's running statistics become NaN when it normalises a batch of a single value per channel: use a BatchSize of at least 2 (and more than one training row), or LayerNorm."
                : Advice))
        {
            Tensor = tensor,
        };

    /// <summary>The state tensor (weight or running statistic) that became NaN or ∞, or null when the loss diverged.</summary>
    public string? Tensor { get; private init; }

    /// <summary>One-based epoch where the loss diverged.</summary>
    public int Epoch { get; }

    /// <summary>One-based batch within that epoch (for a non-finite weight or statistic: the epoch's last batch).</summary>
    public int Step { get; }
}

using System;

namespace ML.DeepExtensions.Training;

/// <summary>
/// Receives what training does as it happens — every batch, every epoch and every decision the engine takes —
/// <b>synchronously on the training thread</b>, in order, all before <c>Fit</c> returns (unlike
/// <see cref="System.Progress{T}"/>, which posts to the thread pool). Override the methods you need; keep them quick,
/// since training waits for them. Set through <see cref="TrainerOptions.Callback"/>.
/// </summary>
/// <example>
/// <code>
/// sealed class Bar : TrainingCallback
/// {
///     public override void OnBatchEnd(BatchProgress p) => Console.Write($"\repoch {p.Epoch}: {p.Fraction:P0} loss {p.Loss:F3} ETA {p.EpochTimeLeft:mm\:ss}");
///     public override void OnEpochEnd(EpochMetrics m) => Console.WriteLine($"\r{m}");
///     public override void OnDecision(TrainingDecision d) => Console.WriteLine(d.Message);
/// }
/// </code>
/// </example>
public abstract class TrainingCallback
{
    /// <summary>After every training step (one batch: forward, backward, optimizer step).</summary>
    public virtual void OnBatchEnd(BatchProgress progress)
    {
    }

    /// <summary>After every epoch, once its validation metrics are known (the same metrics <see cref="TrainerOptions.Progress"/> receives).</summary>
    public virtual void OnEpochEnd(EpochMetrics metrics)
    {
    }

    /// <summary>When the engine decides something: resumed, backbone frozen/unfrozen, learning rate reduced, early stop, best weights restored.</summary>
    public virtual void OnDecision(TrainingDecision decision)
    {
    }
}

/// <summary>Where training stands after one step.</summary>
/// <param name="Epoch">One-based epoch.</param>
/// <param name="Epochs">Epochs planned (<see cref="TrainerOptions.Epochs"/>).</param>
/// <param name="Step">One-based step within the epoch.</param>
/// <param name="StepsPerEpoch">Steps in an epoch, or null while the first epoch of streamed data of unknown size runs.</param>
/// <param name="Examples">Examples in this step's batch.</param>
/// <param name="Loss">This step's loss (before L1/L2 penalties).</param>
/// <param name="LearningRate">The learning rate of this step.</param>
/// <param name="EpochElapsed">Wall time since the epoch began.</param>
public sealed record BatchProgress(int Epoch, int Epochs, int Step, int? StepsPerEpoch, int Examples, double Loss, double LearningRate, TimeSpan EpochElapsed)
{
    /// <summary>Share of the epoch's steps done, in (0, 1], or null when the epoch's size is unknown.</summary>
    public double? Fraction => StepsPerEpoch is { } steps && steps > 0 ? Math.Min(1, (double)Step / steps) : null;

    /// <summary>Estimated time to the end of this epoch's training steps (validation not included), or null when unknown.</summary>
    public TimeSpan? EpochTimeLeft => StepsPerEpoch is { } steps && steps > 0
        ? TimeSpan.FromTicks(EpochElapsed.Ticks / Step * Math.Max(0, steps - Step))
        : null;
}

/// <summary>Kinds of <see cref="TrainingDecision"/>.</summary>
public enum TrainingDecisionKind
{
    /// <summary>Training continued from a checkpoint.</summary>
    Resumed,
    /// <summary>The backbone was frozen for this epoch (only the output layer learns).</summary>
    BackboneFrozen,
    /// <summary>The backbone learns again.</summary>
    BackboneUnfrozen,
    /// <summary>Reduce-on-plateau lowered the learning rate.</summary>
    LearningRateReduced,
    /// <summary>Early stopping ended training.</summary>
    EarlyStopped,
    /// <summary>The weights of the best epoch were restored.</summary>
    RestoredBestWeights,
}

/// <summary>A decision the engine took, with the one-based epoch it concerns and a readable message (also logged to ML.NET's channel).</summary>
/// <param name="Kind">What was decided.</param>
/// <param name="Epoch">The epoch it concerns (for <see cref="TrainingDecisionKind.RestoredBestWeights"/>: the restored epoch).</param>
/// <param name="Message">The same text as the log line.</param>
public sealed record TrainingDecision(TrainingDecisionKind Kind, int Epoch, string Message);

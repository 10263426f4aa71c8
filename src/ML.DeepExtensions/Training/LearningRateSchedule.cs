using System;

namespace ML.DeepExtensions.Training;

/// <summary>
/// How the learning rate changes during training, as a multiplier of <see cref="TrainerOptions.LearningRate"/>
/// evaluated before every step. Combine with <see cref="TrainerOptions.WarmupEpochs"/> for a linear warm-up.
/// </summary>
public abstract class LearningRateSchedule
{
    private protected LearningRateSchedule()
    {
    }

    /// <summary>The learning rate stays at its base value (default).</summary>
    public static LearningRateSchedule Constant() => new ConstantSchedule();

    /// <summary>Multiplies the rate by <paramref name="gamma"/> every <paramref name="stepEpochs"/> epochs.</summary>
    public static LearningRateSchedule StepDecay(int stepEpochs, double gamma = 0.1) => new StepDecaySchedule(Guard.Positive(stepEpochs), Guard.InRange(gamma, 0, 1, maxInclusive: true));

    /// <summary>Cosine annealing from the base rate to <paramref name="minFactor"/>·base over all epochs.</summary>
    public static LearningRateSchedule Cosine(double minFactor = 0) => new CosineSchedule(Guard.InRange(minFactor, 0, 1, maxInclusive: true));

    /// <summary>
    /// One-cycle policy: rises from base/<paramref name="divFactor"/> to the base rate over the first
    /// <paramref name="warmupFraction"/> of training, then anneals (cosine) to base/(divFactor·10⁴).
    /// </summary>
    public static LearningRateSchedule OneCycle(double warmupFraction = 0.3, double divFactor = 25)
        => new OneCycleSchedule(Guard.InRange(warmupFraction, 0, 1), Guard.Positive(divFactor));

    /// <summary>
    /// Multiplies the rate by <paramref name="factor"/> when the monitored metric (see
    /// <see cref="TrainerOptions.EarlyStopping"/> naming) has not improved for <paramref name="patience"/> epochs.
    /// </summary>
    public static LearningRateSchedule ReduceOnPlateau(string monitor = "ValidationLoss", double factor = 0.1, int patience = 3, double minFactor = 1e-4)
        => new ReduceOnPlateauSchedule(new MetricMonitor(monitor), Guard.InRange(factor, 0, 1), Guard.Positive(patience), Guard.InRange(minFactor, 0, 1, maxInclusive: true));

    /// <summary>Multiplier at a point of training.</summary>
    /// <param name="epoch">Zero-based epoch.</param>
    /// <param name="epochProgress">Fraction of the epoch done, in [0, 1).</param>
    /// <param name="totalEpochs">Planned epochs.</param>
    internal abstract double Multiplier(int epoch, double epochProgress, int totalEpochs);
}

internal sealed class ConstantSchedule : LearningRateSchedule
{
    internal override double Multiplier(int epoch, double epochProgress, int totalEpochs) => 1;
}

internal sealed class StepDecaySchedule(int stepEpochs, double gamma) : LearningRateSchedule
{
    internal override double Multiplier(int epoch, double epochProgress, int totalEpochs) => Math.Pow(gamma, epoch / stepEpochs);
}

internal sealed class CosineSchedule(double minFactor) : LearningRateSchedule
{
    internal override double Multiplier(int epoch, double epochProgress, int totalEpochs)
    {
        var t = Math.Min(1, (epoch + epochProgress) / totalEpochs);
        return minFactor + (1 - minFactor) * 0.5 * (1 + Math.Cos(Math.PI * t));
    }
}

internal sealed class OneCycleSchedule(double warmupFraction, double divFactor) : LearningRateSchedule
{
    internal override double Multiplier(int epoch, double epochProgress, int totalEpochs)
    {
        var t = Math.Min(1, (epoch + epochProgress) / totalEpochs);
        var start = 1 / divFactor;
        var end = start / 1e4;
        if (t < warmupFraction)
            return Anneal(start, 1, t / warmupFraction);
        return Anneal(1, end, (t - warmupFraction) / (1 - warmupFraction));
    }

    private static double Anneal(double from, double to, double t) => to + (from - to) * 0.5 * (1 + Math.Cos(Math.PI * t));
}

/// <summary>The multiplier is owned by the training run's plateau tracker; this only carries the settings.</summary>
internal sealed class ReduceOnPlateauSchedule(MetricMonitor monitor, double factor, int patience, double minFactor) : LearningRateSchedule
{
    public MetricMonitor Monitor { get; } = monitor;
    public double Factor { get; } = factor;
    public int Patience { get; } = patience;
    public double MinFactor { get; } = minFactor;

    internal override double Multiplier(int epoch, double epochProgress, int totalEpochs) => 1;
}

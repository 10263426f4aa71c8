using System;
using System.Collections.Generic;
using System.Linq;

namespace ML.DeepExtensions.Training;

/// <summary>
/// Reads one metric from <see cref="EpochMetrics"/> by name — <c>TrainingLoss</c>, <c>ValidationLoss</c>,
/// <c>ValidationAccuracy</c>, … (prefix <c>Training</c> or <c>Validation</c> + a metric name) — and knows
/// whether lower or higher is better (lower for names containing Loss or Error).
/// </summary>
internal sealed class MetricMonitor
{
    public MetricMonitor(string name)
    {
        Name = Guard.NotEmpty(name);
        if (!name.StartsWith("Training", StringComparison.Ordinal) && !name.StartsWith("Validation", StringComparison.Ordinal))
            throw new ArgumentException($"A monitored metric starts with 'Training' or 'Validation', e.g. 'ValidationLoss'. Received: monitor='{name}'", nameof(name));
        LowerIsBetter = name.Contains("Loss", StringComparison.Ordinal) || name.Contains("Error", StringComparison.Ordinal);
    }

    public string Name { get; }

    public bool LowerIsBetter { get; }

    public bool NeedsValidation => Name.StartsWith("Validation", StringComparison.Ordinal);

    public double Read(EpochMetrics metrics)
    {
        var (source, key) = Name.StartsWith("Training", StringComparison.Ordinal)
            ? (metrics.Training, Name["Training".Length..])
            : (metrics.Validation, Name["Validation".Length..]);
        if (source.TryGetValue(key, out var value))
            return value;
        throw new ArgumentException($"Monitored metric '{Name}' is not computed. Available: {string.Join(", ", Available(metrics))}.");
    }

    /// <summary>Whether <paramref name="value"/> beats <paramref name="best"/> by more than <paramref name="minDelta"/>.</summary>
    public bool Improves(double value, double best, double minDelta)
        => double.IsNaN(best) || (LowerIsBetter ? value < best - minDelta : value > best + minDelta);

    private static IEnumerable<string> Available(EpochMetrics m)
        => m.Training.Keys.Select(k => "Training" + k).Concat(m.Validation.Keys.Select(k => "Validation" + k));
}

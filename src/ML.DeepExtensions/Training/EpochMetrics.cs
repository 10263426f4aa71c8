using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ML.DeepExtensions.Training;

/// <summary>What one epoch measured. Reported through <see cref="TrainerOptions.Progress"/> and kept in the model's history.</summary>
/// <param name="Epoch">One-based epoch number.</param>
/// <param name="Training">Metrics over the epoch's training batches (running, in training mode): <c>Loss</c> and task metrics.</param>
/// <param name="Validation">Metrics over the whole validation set after the epoch (empty without validation data).</param>
/// <param name="LearningRate">Learning rate at the end of the epoch.</param>
/// <param name="Duration">Wall time of the epoch including validation.</param>
public sealed record EpochMetrics(int Epoch, IReadOnlyDictionary<string, double> Training, IReadOnlyDictionary<string, double> Validation, double LearningRate, TimeSpan Duration)
{
    /// <summary>Mean training loss.</summary>
    public double TrainingLoss => Training["Loss"];

    /// <summary>Validation loss, or null without validation data.</summary>
    public double? ValidationLoss => Validation.TryGetValue("Loss", out var v) ? v : null;

    /// <inheritdoc />
    public override string ToString()
    {
        static string Format(string prefix, IReadOnlyDictionary<string, double> m)
            => string.Join(", ", m.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{prefix}{kv.Key}={kv.Value:G5}")));
        var parts = new[] { Format("Training", Training), Format("Validation", Validation) }.Where(p => p.Length > 0);
        return string.Create(CultureInfo.InvariantCulture, $"Epoch {Epoch}: {string.Join(", ", parts)}, LearningRate={LearningRate:G4}, {Duration.TotalSeconds:F2}s");
    }
}

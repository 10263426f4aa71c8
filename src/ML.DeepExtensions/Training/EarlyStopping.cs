namespace ML.DeepExtensions.Training;

/// <summary>Stops training when a monitored metric stops improving, optionally restoring the best epoch's weights.</summary>
public sealed class EarlyStopping
{
    /// <summary>Creates the settings.</summary>
    /// <param name="monitor">Metric to watch: <c>ValidationLoss</c> (default), <c>ValidationAccuracy</c>, <c>TrainingLoss</c>, …</param>
    /// <param name="patience">Epochs without improvement before stopping, &gt; 0 (default 5).</param>
    /// <param name="minDelta">Smallest change that counts as an improvement, ≥ 0 (default 0).</param>
    /// <param name="restoreBestWeights">Whether the fitted model keeps the best epoch's weights rather than the last (default true).</param>
    public EarlyStopping(string monitor = "ValidationLoss", int patience = 5, double minDelta = 0, bool restoreBestWeights = true)
    {
        Monitor = new MetricMonitor(monitor).Name;
        Patience = Guard.Positive(patience);
        MinDelta = Guard.NonNegative(minDelta);
        RestoreBestWeights = restoreBestWeights;
    }

    /// <summary>Watched metric.</summary>
    public string Monitor { get; }

    /// <summary>Epochs without improvement before stopping.</summary>
    public int Patience { get; }

    /// <summary>Smallest improvement.</summary>
    public double MinDelta { get; }

    /// <summary>Whether the best epoch's weights are restored at the end.</summary>
    public bool RestoreBestWeights { get; }
}

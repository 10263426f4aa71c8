using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ML.DeepExtensions.Training;
using Spectre.Console;

namespace Samples.Shared;

/// <summary>
/// A console display of training, built on Spectre.Console: one bar per epoch with the running loss, percentage,
/// elapsed time and time left; each finished epoch keeps its metrics; the engine's decisions (early stop, restored
/// weights, learning-rate cuts …) are printed after the bars. It is a <see cref="TrainingCallback"/>, so it is called
/// synchronously on the training thread and everything is shown before <c>Fit</c> returns. Shared by the samples
/// (each project links this file).
/// </summary>
internal sealed class ConsoleTrainingProgress : TrainingCallback
{
    private readonly ProgressContext _context;
    private readonly List<string> _decisions = [];
    private ProgressTask? _epoch;

    private ConsoleTrainingProgress(ProgressContext context) => _context = context;

    /// <summary>Runs <paramref name="train"/> under the display; it receives the callback to put in the trainer's options.</summary>
    public static T Run<T>(Func<TrainingCallback, T> train)
    {
        // Output redirected to a file or a CI log: no live bars, one line per epoch and decision as they happen.
        if (!AnsiConsole.Profile.Capabilities.Interactive)
            return train(new Lines());
        List<string> decisions = [];
        var result = AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var progress = new ConsoleTrainingProgress(context);
                decisions = progress._decisions;
                return train(progress);
            });
        foreach (var decision in decisions)
            AnsiConsole.WriteLine(decision);
        return result;
    }

    /// <inheritdoc />
    public override void OnBatchEnd(BatchProgress progress)
    {
        _epoch ??= _context.AddTask($"Epoch {progress.Epoch}/{progress.Epochs}", maxValue: progress.StepsPerEpoch ?? 1);
        _epoch.IsIndeterminate = progress.StepsPerEpoch is null;
        if (progress.StepsPerEpoch is { } steps)
            _epoch.MaxValue = steps;
        _epoch.Value = progress.Step;
        _epoch.Description = string.Create(CultureInfo.InvariantCulture, $"Epoch {progress.Epoch}/{progress.Epochs}  loss {progress.Loss:F4}");
    }

    /// <inheritdoc />
    public override void OnEpochEnd(EpochMetrics metrics)
    {
        if (_epoch is null)
            return;
        _epoch.IsIndeterminate = false;
        _epoch.Value = _epoch.MaxValue;
        _epoch.Description = Markup.Escape(Summary(metrics));
        _epoch.StopTask();
        _epoch = null;
    }

    /// <inheritdoc />
    public override void OnDecision(TrainingDecision decision) => _decisions.Add(decision.Message);

    /// <summary>The display for a non-interactive console: plain lines.</summary>
    private sealed class Lines : TrainingCallback
    {
        public override void OnEpochEnd(EpochMetrics metrics) => Console.WriteLine($"  {Summary(metrics)} ({metrics.Duration.TotalSeconds:F1} s)");

        public override void OnDecision(TrainingDecision decision) => Console.WriteLine($"  {decision.Message}");
    }

    private static string Summary(EpochMetrics m)
    {
        static string Part(string prefix, IReadOnlyDictionary<string, double> values)
            => string.Join("  ", values.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{prefix}{kv.Key} {kv.Value:G4}")));
        return string.Create(CultureInfo.InvariantCulture, $"Epoch {m.Epoch}  {Part("", m.Training)}  {Part("val ", m.Validation)}").TrimEnd();
    }
}

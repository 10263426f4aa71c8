using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Pretrained;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;
using TorchSharp;

namespace ML.DeepExtensions.Tasks;

/// <summary>A trained network and the metrics of its epochs; the caller owns <see cref="Model"/>.</summary>
internal sealed record FittedNetwork(NetworkModel Model, IReadOnlyList<EpochMetrics> History);

/// <summary>
/// The one way a network is fitted, for every task: schema check (the task's <see cref="TrainingTask.Plan"/>), seed and
/// device from the <c>MLContext</c>, reading with the seeded by-row validation split, a seeded build on the device,
/// optional pretrained weights, the engine, and disposal of everything native when anything fails. Options were
/// validated once, when the estimator was created.
/// </summary>
internal static class FittingPipeline
{
    /// <summary>Trains the network of <paramref name="task"/> on <paramref name="training"/>.</summary>
    /// <param name="host">The estimator's host (logging channel, seed, device settings).</param>
    /// <param name="options">Engine settings, already validated.</param>
    /// <param name="task">What is trained.</param>
    /// <param name="training">Training rows (already through whatever the estimator fitted before, e.g. a tokenizer).</param>
    /// <param name="validation">Validation rows prepared the same way, or null (then <see cref="TrainerOptions.ValidationFraction"/> applies).</param>
    /// <param name="pretrained">Initial weights, or null.</param>
    /// <remarks>
    /// When the process exits while this runs on another thread, training stops at the next batch, the model is
    /// disposed and the thread parks until the process ends (<see cref="ProcessExitGuard"/>): it never returns.
    /// </remarks>
    public static FittedNetwork Fit(IHost host, TrainerOptions options, TrainingTask task, IDataView training, IDataView? validation, PretrainedWeights? pretrained)
    {
        var running = ProcessExitGuard.Enter();
        try
        {
            using var threads = TorchThreads.Use(options.NumberOfThreads);
            return FitCore(host, options, task, training, validation, pretrained);
        }
        catch (Exception) when (ProcessExitGuard.IsExiting)
        {
            ProcessExitGuard.Park(running);
            throw;
        }
        finally
        {
            running.Dispose();
        }
    }

    private static FittedNetwork FitCore(IHost host, TrainerOptions options, TrainingTask task, IDataView training, IDataView? validation, PretrainedWeights? pretrained)
    {
        var plan = task.Plan(training.Schema, validation?.Schema);
        // Checkpoint settings fail here, before any row is read, not after the first epoch.
        if (options.ResumeFromCheckpoint is { } resume)
            TrainingLoop.CheckResumable(Checkpoint.ReadHeader(resume), resume, options.Epochs);
        if (options.CheckpointDirectory is { } directory)
            Checkpoint.Prepare(directory);

        using var channel = host.Start("Training");
        var settings = HostSettings.Read(host);
        var seed = settings.Seed ?? Random.Shared.Next();
        var device = Devices.Select(settings, channel);
        // An unsupported precision fails here, before any row is read.
        if (Autocast.Check(options.Precision, device) is { } warning)
            channel.Warning(warning);

        var fraction = validation is null ? options.ValidationFraction : 0;
        Func<long, bool>? trainRows = fraction > 0 ? row => !ExampleReader.IsValidationRow(row, seed, fraction) : null;
        using var trainingBatches = ReadSplit(() => task.Read(training, trainRows, fraction > 0 ? "training (after ValidationFraction)" : "training", options), fraction, "training");
        if (!trainingBatches.InMemory)
            channel.Info("Training data is streamed: shuffling is within buffers of ShuffleBufferRows rows.");
        using var validationBatches = validation is not null
            ? task.Read(validation, null, "validation", options)
            : fraction > 0
                ? ReadSplit(() => task.Read(training, row => ExampleReader.IsValidationRow(row, seed, fraction), "validation (ValidationFraction)", options), fraction, "validation")
                : null;

        var model = NetworkModel.Build(plan.Network, plan.InputShape, seed, device);
        try
        {
            if (pretrained is not null)
            {
                var loaded = WeightTransfer.Apply(pretrained, model.Module, task.HeadTensors(model.Module), channel);
                channel.Info($"Loaded {loaded.BackboneTensors} tensors from '{pretrained.FilePath}'" +
                             $"{(loaded.HeadLoaded ? " including the output layer" : "; the output layer starts fresh")}.");
            }
            using var objectiveScope = torch.NewDisposeScope();
            var objective = task.CreateObjective();
            channel.Info($"Training on {device.type}: {Describe(trainingBatches)} rows, " +
                         $"{(validationBatches is null ? "no" : Describe(validationBatches))} validation rows; network of {model.Module.parameters().Sum(p => p.numel()):N0} parameters.\n" +
                         plan.Network.Summary(plan.InputShape));
            var history = TrainingLoop.Run(new TrainingRequest(model.Module, model.Fingerprint, objective, trainingBatches, validationBatches,
                options, device, seed, channel, model.BackboneParameters(), plan.InputShape, model.Generator));
            return new FittedNetwork(model, history);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Reads one side of the <see cref="TrainerOptions.ValidationFraction"/> split; an empty side names the option.</summary>
    private static BatchSource ReadSplit(Func<BatchSource> read, double fraction, string side)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException ex) when (fraction > 0 && ex.Data.Contains(BatchSource.NoRowsKey))
        {
            var fix = side == "training"
                ? "lower ValidationFraction or give a ValidationSet"
                : "raise ValidationFraction, give a ValidationSet, or set ValidationFraction to 0";
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"ValidationFraction left no rows for {side}: the rows it holds out are drawn by row (seeded), and {(side == "training" ? "all" : "none")} of the data's rows were drawn; " +
                $"expected at least one {side} row. {char.ToUpperInvariant(fix[0])}{fix[1..]}. Received: ValidationFraction={fraction}"), ex);
        }
    }

    private static string Describe(BatchSource batches) => batches.Count?.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) ?? "streamed";
}

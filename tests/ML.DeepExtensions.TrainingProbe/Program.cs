// Usage: TrainingProbe checkpoint <directory> <epochs>
//          trains TrainingScenarios.ResumeOptions with CheckpointDirectory = <directory>; prints "epoch N" after each
//          epoch. The kill-and-resume test SIGKILLs it once the first checkpoint exists.
//        TrainingProbe exit-during-fit return|exit
//          starts a long Fit on a background thread, waits until its first epoch has ended, prints "training", then
//          returns from Main (exit code 0) or calls Environment.Exit(0) while the second epoch runs.
using System;
using System.Threading;
using Microsoft.ML;
using ML.DeepExtensions;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.TrainingProbe;

if (args.Length == 3 && args[0] == "checkpoint")
{
    var mlContext = new MLContext(TrainingScenarios.Seed);
    var options = TrainingScenarios.ResumeOptions(int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
    options.CheckpointDirectory = args[1];
    options.Progress = new SyncProgress(m => Console.WriteLine($"epoch {m.Epoch}"));
    mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(TrainingScenarios.Images(mlContext, TrainingScenarios.ResumeRows));
    Console.WriteLine("done");
    return 0;
}

if (args.Length == 2 && args[0] == "exit-during-fit" && args[1] is "return" or "exit")
{
    var mlContext = new MLContext(TrainingScenarios.Seed);
    var data = TrainingScenarios.Images(mlContext, 2048);
    using var firstEpoch = new ManualResetEventSlim();
    var options = TrainingScenarios.LongRunOptions();
    options.Progress = new SyncProgress(_ => firstEpoch.Set());
    var training = new Thread(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(data)) { IsBackground = true };
    training.Start();
    if (!firstEpoch.Wait(TimeSpan.FromSeconds(120)))
        return 3;
    Thread.Sleep(50);
    Console.WriteLine("training");
    if (args[1] == "exit")
        Environment.Exit(0);
    return 0;
}

Console.Error.WriteLine("Usage: TrainingProbe checkpoint <directory> <epochs> | TrainingProbe exit-during-fit return|exit");
return 2;

/// <summary>Reports synchronously on the training thread.</summary>
internal sealed class SyncProgress(Action<EpochMetrics> report) : IProgress<EpochMetrics>
{
    public void Report(EpochMetrics value) => report(value);
}

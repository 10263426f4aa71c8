// Usage: TrainingProbe checkpoint <directory> <epochs>
//          trains TrainingScenarios.ResumeOptions with CheckpointDirectory = <directory>; prints "epoch N" after each
//          epoch. The kill-and-resume test SIGKILLs it once the first checkpoint exists.
//        TrainingProbe exit-during-fit return|exit
//          starts a long Fit on a background thread, waits until its first epoch has ended, prints "training", then
//          returns from Main (exit code 0) or calls Environment.Exit(0) while the second epoch runs.
//        TrainingProbe scalar-lifetime <seconds> on|off
//          TorchSharp's scalar-finalization fault with the scalar quarantine on or off (ScalarLifetime.cs); prints
//          "implicit: F of R rounds failed", "held: ..." and the quarantine's state; exit code 1 when a round failed.
//        TrainingProbe onednn-isa <ISA>
//          sets ONEDNN_MAX_CPU_ISA=<ISA> through .NET's Environment.SetEnvironmentVariable only, turns oneDNN's verbose
//          mode on in the C library's environment, initialises the runtime and runs one convolution: oneDNN prints the
//          ISA it runs at ("onednn_verbose,...,isa:...") to standard output.
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

if (args.Length == 3 && args[0] == "scalar-lifetime" && args[2] is "on" or "off")
    return ScalarLifetime.Run(double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), quarantine: args[2] == "on");

if (args.Length == 2 && args[0] == "onednn-isa")
{
    Environment.SetEnvironmentVariable("ONEDNN_MAX_CPU_ISA", args[1]);
    OneDnnVerbose.TurnOn();
    ML.DeepExtensions.Runtime.TorchRuntime.EnsureInitialized();
    using var conv = TorchSharp.torch.nn.Conv2d(3, 8, 3);
    using var input = TorchSharp.torch.randn(16, 3, 16, 16);
    using var output = conv.call(input);
    Console.WriteLine($"convolution output {string.Join('x', output.shape)}");
    return 0;
}

Console.Error.WriteLine("Usage: TrainingProbe checkpoint <directory> <epochs> | TrainingProbe exit-during-fit return|exit | TrainingProbe scalar-lifetime <seconds> on|off | TrainingProbe onednn-isa <ISA>");
return 2;

/// <summary>Reports synchronously on the training thread.</summary>
internal sealed class SyncProgress(Action<EpochMetrics> report) : IProgress<EpochMetrics>
{
    public void Report(EpochMetrics value) => report(value);
}

/// <summary>oneDNN's verbose mode, set in the C library's environment (oneDNN reads it with getenv).</summary>
internal static class OneDnnVerbose
{
    [System.Runtime.InteropServices.DllImport("libc.so.6", EntryPoint = "setenv")]
    private static extern int SetEnv(string name, string value, int overwrite);

    public static void TurnOn() => SetEnv("ONEDNN_VERBOSE", "1", 1);
}

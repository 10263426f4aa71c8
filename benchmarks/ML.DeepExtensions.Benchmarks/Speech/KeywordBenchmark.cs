using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Audio;
using ML.DeepExtensions.Audio.Data;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Benchmarks.Speech;

/// <summary>
/// <c>--keywords [--keywords-clips N] [--keywords-epochs N] [--keywords-test-clips N] [--keywords-validation PERCENT] [--threads N]</c>: keyword spotting on single espeak-ng words (20 classes:
/// ten digits + ten commands), trained on the 56 training voices and measured on 8 unseen voices (160 clips): training
/// utterances/s, classification real-time factor (batched Transform) and accuracy. Prints one markdown table.
/// </summary>
internal static class KeywordBenchmark
{
    public static bool Wants(string[] args) => args.Contains("--keywords");

    private sealed class Row
    {
        public string AudioPath { get; set; } = "";

        public string Transcript { get; set; } = "";
    }

    public static int Run(string[] args)
    {
        var clips = BenchArgs.PositiveInt(args, "--keywords-clips") ?? 560;
        var epochs = BenchArgs.PositiveInt(args, "--keywords-epochs") ?? 30;
        var threads = BenchArgs.PositiveInt(args, "--threads");
        var testCount = BenchArgs.PositiveInt(args, "--keywords-test-clips") ?? 160;
        // --keywords-validation P: hold out P % of the training clips (training voices only) and keep the epoch with the
        // lowest validation loss (early stopping, patience 8, best weights restored); the test voices stay unseen.
        var validationPercent = BenchArgs.PositiveInt(args, "--keywords-validation");
        TorchRuntime.EnsureInitialized();
        var folder = Path.Combine(Path.GetTempPath(), "mldx-speech-benchmark-corpus");
        var trainClips = SpokenCorpus.Generate(folder, SpokenCorpus.TrainingVoices, clips, seed: 11, maxWords: 1);
        var testClips = SpokenCorpus.Generate(folder, SpokenCorpus.TestVoices, testCount, seed: 12, maxWords: 1);
        var ml = new MLContext(seed: 1);
        IDataView Load(System.Collections.Generic.IEnumerable<SpokenClip> items)
        {
            var rows = ml.Data.LoadFromEnumerable(items.Select(c => new Row { AudioPath = c.Path, Transcript = c.Transcript }).ToArray());
            return ml.Data.Cache(ml.Transforms.LoadAudio("Audio", "AudioPath").Fit(rows).Transform(rows));
        }
        var train = Load(trainClips);
        var test = Load(testClips);
        var testSeconds = test.GetColumn<float[]>("Audio").Sum(s => s.Length) / 16000.0;
        var options = new AudioClassifierOptions { Epochs = epochs, NumberOfThreads = threads, Callback = new EpochLines() };
        if (validationPercent is { } percent)
        {
            options.ValidationFraction = percent / 100.0;
            options.EarlyStopping = new ML.DeepExtensions.Training.EarlyStopping("ValidationLoss", patience: 8, restoreBestWeights: true);
        }
        var clock = Stopwatch.StartNew();
        var model = ml.Transforms.Conversion.MapValueToKey("Label", "Transcript")
            .Append(ml.MulticlassClassification.Trainers.AudioClassifier(options)).Fit(train);
        var training = clock.Elapsed;
        var network = model.LastTransformer.LastTransformer;
        var epochSeconds = network.History.Average(h => h.Duration.TotalSeconds);
        clock.Restart();
        var scored = ml.Data.Cache(model.Transform(test));
        _ = scored.GetColumn<uint>("PredictedLabel").Count();
        var scoring = clock.Elapsed;
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        Console.WriteLine($"## Keyword spotting (espeak-ng single words, 20 classes), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {LoadMeter.LoadAverage()?.ToString("F1", CultureInfo.InvariantCulture) ?? "n/a"}");
        Console.WriteLine();
        Console.WriteLine("| Measure | Value |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| Command | `dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks -- {string.Join(' ', args)}` |");
        Console.WriteLine($"| Corpus | {trainClips.Count} training clips (56 voices), {testClips.Count} test clips ({F(testSeconds, "F0")} s, 8 unseen voices) |");
        Console.WriteLine($"| Training (CNN over 100 × 40 log-mel, {network.Network.Describe(network.InputShape.ToArray()).Sum(l => l.Parameters):N0} parameters, {network.History.Count} epochs, batch {options.BatchSize}{(validationPercent is { } v ? $", {v} % of the training clips held out for early stopping on validation loss (best weights)" : "")}) | {F(training.TotalSeconds, "F0")} s including feature extraction, {F(trainClips.Count / epochSeconds, "F0")} utterances/s per epoch |");
        Console.WriteLine($"| Classification (Transform, features + network) | {F(scoring.TotalSeconds, "F2")} s for {F(testSeconds, "F0")} s of audio: real-time factor {F(scoring.TotalSeconds / testSeconds, "F4")} |");
        Console.WriteLine($"| Unseen voices | accuracy {F(metrics.MicroAccuracy * 100, "F1")} %, macro accuracy {F(metrics.MacroAccuracy * 100, "F1")} %, log-loss {F(metrics.LogLoss, "F3")} |");
        network.Dispose();
        return 0;
    }

    private sealed class EpochLines : ML.DeepExtensions.Training.TrainingCallback
    {
        public override void OnEpochEnd(ML.DeepExtensions.Training.EpochMetrics metrics) => Console.Error.WriteLine(metrics);
    }
}

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
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Benchmarks.Speech;

/// <summary>
/// <c>--speech [--speech-epochs N] [--threads N]</c>: the espeak-ng spoken digits/commands corpus (eng/data/SpokenCorpus.cs,
/// 448 training clips from 56 voices, 80 test clips from 8 unseen voices). Measures feature extraction speed (log-mel,
/// batched, as training and scoring compute it), training utterances/s of the DeepSpeech2-style recogniser, real-time
/// factor of recognition (batched <c>Transcribe</c>: processing time / audio duration) and WER/CER/word accuracy on the
/// unseen voices. Prints one markdown table.
/// </summary>
internal static class SpeechBenchmark
{
    public static bool Wants(string[] args) => args.Contains("--speech");

    private sealed class Row
    {
        public string AudioPath { get; set; } = "";

        public string Transcript { get; set; } = "";
    }

    public static int Run(string[] args)
    {
        var epochs = Option(args, "--speech-epochs") ?? 40;
        var clips = Option(args, "--speech-clips") ?? 448;
        var words = Option(args, "--speech-words") ?? 2;
        var hidden = Option(args, "--speech-hidden") ?? 96;
        var layers = Option(args, "--speech-layers") ?? 2;
        var channels = Option(args, "--speech-channels") ?? 16;
        var batch = Option(args, "--speech-batch") ?? 16;
        var rate = (Option(args, "--speech-lr-per-10000") ?? 30) / 10000.0;
        var seed = Option(args, "--speech-seed") ?? 1;
        var threads = Option(args, "--threads");
        TorchRuntime.EnsureInitialized();
        var folder = Path.Combine(Path.GetTempPath(), "mldx-speech-benchmark-corpus");
        var clock = Stopwatch.StartNew();
        var trainClips = SpokenCorpus.Generate(folder, SpokenCorpus.TrainingVoices, clips, seed: 1, maxWords: words);
        var testClips = SpokenCorpus.Generate(folder, SpokenCorpus.TestVoices, 80, seed: 2, maxWords: words);
        var generation = clock.Elapsed;

        var ml = new MLContext(seed: seed);
        IDataView Load(System.Collections.Generic.IEnumerable<SpokenClip> clips)
        {
            var rows = ml.Data.LoadFromEnumerable(clips.Select(c => new Row { AudioPath = c.Path, Transcript = c.Transcript }).ToArray());
            return ml.Data.Cache(ml.Transforms.LoadAudio("Audio", "AudioPath").Fit(rows).Transform(rows));
        }
        clock.Restart();
        var train = Load(trainClips);
        var test = Load(testClips);
        var trainSamples = train.GetColumn<float[]>("Audio").ToArray();
        var testSamples = test.GetColumn<float[]>("Audio").ToArray();
        var loading = clock.Elapsed;
        var trainSeconds = trainSamples.Sum(s => s.Length) / 16000.0;
        var testSeconds = testSamples.Sum(s => s.Length) / 16000.0;

        // Feature extraction: the public per-utterance call (the same tensor code training and scoring run per utterance).
        var features = new AudioFeatureOptions();
        clock.Restart();
        foreach (var samples in trainSamples)
            AudioFeatures.Compute(samples, features);
        var extraction = clock.Elapsed;

        var options = new SpeechRecognizerOptions
        {
            Epochs = epochs,
            BatchSize = batch,
            LearningRate = rate,
            Encoder = new DeepSpeech2Parameters { Channels = channels, HiddenSize = hidden, RecurrentLayers = layers },
            Vocabulary = "abcdefghijklmnopqrstuvwxyz ",
            NumberOfThreads = threads,
            Callback = new EpochLines(),
        };
        clock.Restart();
        using var model = ml.SpeechRecognition().Trainers.SpeechRecognizer(options).Fit(train);
        var training = clock.Elapsed;
        var trainedEpochs = model.History.Count;
        var epochSeconds = model.History.Average(h => h.Duration.TotalSeconds);

        clock.Restart();
        var transcripts = model.Transcribe(testSamples);
        var recognition = clock.Elapsed;
        var metrics = SpeechRecognitionMetrics.From(testClips.Select((c, i) => (c.Transcript, transcripts[i])));
        var beam = model.WithDecoder(CtcDecoder.PrefixBeamSearch, 8);
        clock.Restart();
        var beamTranscripts = beam.Transcribe(testSamples);
        var beamTime = clock.Elapsed;
        var beamMetrics = SpeechRecognitionMetrics.From(testClips.Select((c, i) => (c.Transcript, beamTranscripts[i])));

        string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        Console.WriteLine($"## Speech (espeak-ng spoken digits/commands, DeepSpeech2-style CTC), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {LoadMeter.LoadAverage()?.ToString("F1", CultureInfo.InvariantCulture) ?? "n/a"}");
        Console.WriteLine();
        Console.WriteLine("| Measure | Value |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| Command | `dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks -- {string.Join(' ', args)}` |");
        Console.WriteLine($"| Corpus | 1–{words} words per clip; {trainClips.Count} training clips ({F(trainSeconds, "F0")} s of audio, 56 voices), {testClips.Count} test clips ({F(testSeconds, "F0")} s, 8 unseen voices); generated in {F(generation.TotalSeconds, "F1")} s, loaded + resampled in {F(loading.TotalSeconds, "F1")} s |");
        Console.WriteLine($"| Log-mel extraction (40 bins, 25/10 ms, per utterance, normalised) | {F(trainSamples.Length / extraction.TotalSeconds, "F0")} utterances/s, real-time factor {F(extraction.TotalSeconds / trainSeconds, "F4")} |");
        Console.WriteLine($"| Training (MLContext seed {seed}, {trainedEpochs} epochs, batch {batch}, learning rate {F(rate, "G3")}, DeepSpeech2 channels {channels}, BiGRU {hidden} × {layers}, {model.Network.Describe(features.FeaturesPerFrame + 1).Sum(l => l.Parameters):N0} parameters) | {F(training.TotalSeconds, "F0")} s, {F(trainClips.Count / epochSeconds, "F1")} utterances/s ({F(epochSeconds, "F1")} s/epoch) |");
        Console.WriteLine($"| Recognition (batched Transcribe, greedy) | {F(recognition.TotalSeconds, "F2")} s for {F(testSeconds, "F0")} s of audio: real-time factor {F(recognition.TotalSeconds / testSeconds, "F4")} |");
        Console.WriteLine($"| Recognition with prefix beam search (width 8) | {F(beamTime.TotalSeconds, "F2")} s: real-time factor {F(beamTime.TotalSeconds / testSeconds, "F4")}; unseen voices WER {F(beamMetrics.WordErrorRate * 100, "F1")} %, CER {F(beamMetrics.CharacterErrorRate * 100, "F1")} %, word accuracy {F(beamMetrics.WordAccuracy * 100, "F1")} % |");
        Console.WriteLine($"| Unseen voices (greedy) | WER {F(metrics.WordErrorRate * 100, "F1")} %, CER {F(metrics.CharacterErrorRate * 100, "F1")} %, word accuracy {F(metrics.WordAccuracy * 100, "F1")} %, sentence accuracy {F(metrics.SentenceAccuracy * 100, "F1")} % |");
        return 0;
    }

    private sealed class EpochLines : TrainingCallback
    {
        public override void OnEpochEnd(EpochMetrics metrics) => Console.Error.WriteLine(metrics);
    }

    private static int? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : null;
    }
}

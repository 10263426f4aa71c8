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
/// <c>--speech [--speech-encoders DeepSpeech2,QuartzNet,Conformer] [--speech-epochs N] [--speech-clips N] [--speech-test-clips N] [--speech-warmup N] [--speech-cosine] [--threads N]</c>: the espeak-ng spoken
/// digits/commands corpus (eng/data/SpokenCorpus.cs, 448 training clips from 56 voices, 80 test clips from 8 unseen voices).
/// Measures feature extraction speed, then for each encoder: training utterances/s, real-time factor of recognition (batched
/// <c>Transcribe</c>: processing time / audio duration), WER/CER/word accuracy on the unseen voices (greedy and beam search),
/// and — when Debian's pocketsphinx-testdata is installed — WER/CER on its 11 transcribed real recordings. Prints one
/// markdown table.
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
        var clips = BenchArgs.PositiveInt(args, "--speech-clips") ?? 448;
        var words = BenchArgs.PositiveInt(args, "--speech-words") ?? 2;
        var hidden = BenchArgs.PositiveInt(args, "--speech-hidden") ?? 96;
        var layers = BenchArgs.PositiveInt(args, "--speech-layers") ?? 2;
        var channels = BenchArgs.PositiveInt(args, "--speech-channels") ?? 16;
        var seed = BenchArgs.PositiveInt(args, "--speech-seed") ?? 1;
        var testCount = BenchArgs.PositiveInt(args, "--speech-test-clips") ?? 80;
        var warmup = BenchArgs.PositiveInt(args, "--speech-warmup");
        var threads = BenchArgs.PositiveInt(args, "--threads");
        TorchRuntime.EnsureInitialized();
        var folder = Path.Combine(Path.GetTempPath(), "mldx-speech-benchmark-corpus");
        var clock = Stopwatch.StartNew();
        var trainClips = SpokenCorpus.Generate(folder, SpokenCorpus.TrainingVoices, clips, seed: 1, maxWords: words);
        var testClips = SpokenCorpus.Generate(folder, SpokenCorpus.TestVoices, testCount, seed: 2, maxWords: words);
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

        string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        Console.WriteLine($"## Speech (espeak-ng spoken digits/commands, CTC), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {LoadMeter.LoadAverage()?.ToString("F1", CultureInfo.InvariantCulture) ?? "n/a"}");
        Console.WriteLine();
        Console.WriteLine("| Measure | Value |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine($"| Command | `dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks -- {string.Join(' ', args)}` |");
        Console.WriteLine($"| Corpus | 1–{words} words per clip; {trainClips.Count} training clips ({F(trainSeconds, "F0")} s of audio, 56 voices), {testClips.Count} test clips ({F(testSeconds, "F0")} s, 8 unseen voices); generated in {F(generation.TotalSeconds, "F1")} s, loaded + resampled in {F(loading.TotalSeconds, "F1")} s |");
        Console.WriteLine($"| Log-mel extraction (40 bins, 25/10 ms, per utterance, normalised) | {F(trainSamples.Length / extraction.TotalSeconds, "F0")} utterances/s, real-time factor {F(extraction.TotalSeconds / trainSeconds, "F4")} |");

        var real = RealRecordings.Load();
        Console.WriteLine(real.Count > 0
            ? $"| Real recordings | Debian pocketsphinx-testdata: {real.Count} files, {F(real.Sum(r => r.Samples.Length) / 16000.0, "F0")} s, {real.Select(r => r.Set).Distinct().Count()} sets (cards: card names; librivox: read book sentences; tidigits: a digit string) — mostly words outside the 20-word training vocabulary |"
            : "| Real recordings | pocketsphinx-testdata not installed (`sudo apt-get install pocketsphinx-testdata`): not measured |");
        var encoders = (BenchArgs.Value(args, "--speech-encoders") ?? "DeepSpeech2,QuartzNet,Conformer").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(e => Enum.Parse<SpeechEncoder>(e, ignoreCase: true)).ToArray();
        foreach (var encoder in encoders)
        {
            // Per-encoder settings: DeepSpeech2's are the measured configuration of docs/speech.md; the others the accuracy tests'
            // (tests/ML.DeepExtensions.Audio.Tests/AccuracyTests.cs, AccuracySettings.Options).
            var options = EncoderOptions(encoder, epochs: BenchArgs.PositiveInt(args, "--speech-epochs"), batch: BenchArgs.PositiveInt(args, "--speech-batch"),
                rate: BenchArgs.PositiveInt(args, "--speech-lr-per-10000") is { } r ? r / 10000.0 : null, channels, hidden, layers);
            options.NumberOfThreads = threads;
            options.WarmupEpochs = warmup ?? options.WarmupEpochs;
            if (args.Contains("--speech-cosine"))
                options.Schedule = LearningRateSchedule.Cosine(minFactor: 0.02);
            options.Callback = new EpochLines();
            var context = new MLContext(seed: seed);
            clock.Restart();
            using var model = context.SpeechRecognition().Trainers.SpeechRecognizer(options).Fit(train);
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
            // The same beam restricted to the corpus's 20 words (OutOfListWordPenalty = +∞, the default).
            var listed = model.WithDecoder(CtcDecoder.PrefixBeamSearch, 8, SpokenCorpus.Words);
            clock.Restart();
            var listedTranscripts = listed.Transcribe(testSamples);
            var listedTime = clock.Elapsed;
            var listedMetrics = SpeechRecognitionMetrics.From(testClips.Select((c, i) => (c.Transcript, listedTranscripts[i])));

            Console.WriteLine($"| **{encoder}** training (MLContext seed {seed}, {trainedEpochs} epochs, batch {options.BatchSize}, learning rate {F(options.LearningRate, "G3")}{(args.Contains("--speech-cosine") ? " cosine to 2 %" : "")}, {options.WarmupEpochs} warm-up epochs, {model.Network.Describe(features.FeaturesPerFrame + 1).Sum(l => l.Parameters):N0} parameters) | {F(training.TotalSeconds, "F0")} s, {F(trainClips.Count / epochSeconds, "F1")} utterances/s ({F(epochSeconds, "F1")} s/epoch) |");
            Console.WriteLine($"| {encoder} recognition (batched Transcribe, greedy) | {F(recognition.TotalSeconds, "F2")} s for {F(testSeconds, "F0")} s of audio: real-time factor {F(recognition.TotalSeconds / testSeconds, "F4")} |");
            Console.WriteLine($"| {encoder} unseen voices (greedy) | WER {F(metrics.WordErrorRate * 100, "F1")} %, CER {F(metrics.CharacterErrorRate * 100, "F1")} %, word accuracy {F(metrics.WordAccuracy * 100, "F1")} %, sentence accuracy {F(metrics.SentenceAccuracy * 100, "F1")} % |");
            if (real.Count > 0)
            {
                var heard = model.Transcribe(real.Select(r => r.Samples).ToArray());
                var all = SpeechRecognitionMetrics.From(real.Select((r, i) => (r.Transcript, heard[i])));
                var sets = string.Join("; ", real.Select((r, i) => (r, i)).GroupBy(x => x.r.Set).Select(g =>
                {
                    var m = SpeechRecognitionMetrics.From(g.Select(x => (x.r.Transcript, heard[x.i])));
                    return $"{g.Key} ({g.Count()}): WER {F(m.WordErrorRate * 100, "F0")} %, CER {F(m.CharacterErrorRate * 100, "F0")} %";
                }));
                Console.WriteLine($"| {encoder} on real recordings (pocketsphinx-testdata, {real.Count} files, greedy) | WER {F(all.WordErrorRate * 100, "F1")} %, CER {F(all.CharacterErrorRate * 100, "F1")} %; {sets}; e.g. \"{real[0].Transcript}\" → \"{heard[0]}\" |");
            }
            Console.WriteLine($"| {encoder} with prefix beam search (width 8) | {F(beamTime.TotalSeconds, "F2")} s: real-time factor {F(beamTime.TotalSeconds / testSeconds, "F4")}; unseen voices WER {F(beamMetrics.WordErrorRate * 100, "F1")} %, CER {F(beamMetrics.CharacterErrorRate * 100, "F1")} %, word accuracy {F(beamMetrics.WordAccuracy * 100, "F1")} % |");
            Console.WriteLine($"| {encoder} with prefix beam search (width 8) restricted to the 20-word list | {F(listedTime.TotalSeconds, "F2")} s: real-time factor {F(listedTime.TotalSeconds / testSeconds, "F4")}; unseen voices WER {F(listedMetrics.WordErrorRate * 100, "F1")} %, CER {F(listedMetrics.CharacterErrorRate * 100, "F1")} %, word accuracy {F(listedMetrics.WordAccuracy * 100, "F1")} %, sentence accuracy {F(listedMetrics.SentenceAccuracy * 100, "F1")} % |");
        }
        return 0;
    }

    private sealed class EpochLines : TrainingCallback
    {
        public override void OnEpochEnd(EpochMetrics metrics) => Console.Error.WriteLine(metrics);
    }

    /// <summary>The settings each encoder is measured with (command-line values override epochs, batch and learning rate).</summary>
    internal static SpeechRecognizerOptions EncoderOptions(SpeechEncoder encoder, int? epochs, int? batch, double? rate, int channels, int hidden, int layers)
    {
        var options = new SpeechRecognizerOptions
        {
            Architecture = encoder,
            Vocabulary = "abcdefghijklmnopqrstuvwxyz ",
            Encoder = new DeepSpeech2Parameters { Channels = channels, HiddenSize = hidden, RecurrentLayers = layers },
        };
        switch (encoder)
        {
            case SpeechEncoder.QuartzNet:
                options.Epochs = 30;
                options.LearningRate = 3e-3;
                break;
            case SpeechEncoder.Conformer:
                options.Epochs = 30;
                options.LearningRate = 2e-3;
                options.WarmupEpochs = 2;
                break;
        }
        options.Epochs = epochs ?? options.Epochs;
        options.BatchSize = batch ?? options.BatchSize;
        options.LearningRate = rate ?? options.LearningRate;
        return options;
    }
}

/// <summary>
/// The recordings of Debian's <c>pocketsphinx-testdata</c> (BSD-2) that come with transcripts: cards/*.wav (5), librivox/*.wav (5)
/// and tidigits/dhd.2934z.raw (16 kHz 16-bit little-endian PCM, "two nine three four zero"). Read in place, never copied.
/// </summary>
internal static class RealRecordings
{
    private const string Root = "/usr/share/pocketsphinx/test/data";

    internal sealed record Recording(string Set, string Path, float[] Samples, string Transcript);

    public static System.Collections.Generic.List<Recording> Load()
    {
        var result = new System.Collections.Generic.List<Recording>();
        if (!Directory.Exists(Root))
            return result;
        foreach (var (set, file) in new[] { ("cards", "cards/cards.transcription"), ("librivox", "librivox/transcription") })
        {
            var folder = Path.GetDirectoryName(Path.Combine(Root, file))!;
            foreach (var line in File.ReadAllLines(Path.Combine(Root, file)).Where(l => l.Trim().Length > 0))
            {
                var open = line.LastIndexOf('(');
                var id = line[(open + 1)..line.LastIndexOf(')')];
                var text = string.Join(' ', line[..open].Replace("<s>", "").Replace("</s>", "").Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
                var wav = Path.Combine(folder, id + ".wav");
                if (File.Exists(wav))
                    result.Add(new Recording(set, wav, WavAudio.Read(wav, 16000), text));
            }
        }
        var raw = Path.Combine(Root, "tidigits", "dhd.2934z.raw");
        if (File.Exists(raw))
        {
            var bytes = File.ReadAllBytes(raw);
            var samples = new float[bytes.Length / 2];
            for (var i = 0; i < samples.Length; i++)
                samples[i] = BitConverter.ToInt16(bytes, 2 * i) / 32768f;
            result.Add(new Recording("tidigits", raw, samples, "two nine three four zero"));
        }
        return result;
    }
}

using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Audio.Data;
using ML.DeepExtensions.Training;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Audio.Tests;

/// <summary>
/// Trains a small DeepSpeech2-style recogniser on espeak-ng clips of 1–2 words (20-word vocabulary) from 56 training voices
/// and measures it on 8 voices whose variants no training voice uses.
/// </summary>
[Collection(AccuracySettings.Collection)]
public sealed class AccuracyTests(ITestOutputHelper output)
{
    [Theory]
    [Trait("Category", "Accuracy")]
    [Trait("Category", "Slow")]
    [InlineData(TrainingPrecision.Float32)]
    [InlineData(TrainingPrecision.MixedBFloat16)]
    public void SpeechRecognizer_UnseenVoices_EarnsWordAccuracy(TrainingPrecision precision)
    {
        if (!SpokenCorpus.Available())
            Assert.Fail("espeak-ng is missing: run `bash eng/install-reference-tools.sh`.");
        // Seed 1 is the benchmark's measured run (88.9 %); the escape from the CTC blank plateau is seed-dependent: seed 7 gave
        // 40.5 % after the same 40 epochs (docs/speech.md), so this asserts the stated, reproducible configuration.
        var ml = new MLContext(seed: 1);
        var train = Corpus.Loaded(ml, Corpus.Training(AccuracySettings.TrainingClips));
        var test = Corpus.Loaded(ml, Corpus.Test(AccuracySettings.TestClips));
        var options = AccuracySettings.Options();
        options.Precision = precision;
        var log = Path.Combine(Path.GetTempPath(), "mldx-audio-accuracy.log");
        File.WriteAllText(log, "");
        var started = Stopwatch.StartNew();
        options.Callback = new LogCallback(log, started);
        var watch = Stopwatch.StartNew();
        using var model = ml.SpeechRecognition().Trainers.SpeechRecognizer(options).Fit(train);
        var trained = watch.Elapsed;
        var metrics = model.Evaluate(test);
        var scored = ml.SpeechRecognition().Evaluate(model.Transform(test));
        output.WriteLine($"{precision}: training {trained.TotalSeconds:F1} s, {model.History.Count} epochs; unseen voices: {metrics}");
        foreach (var epoch in model.History)
            output.WriteLine(epoch.ToString());
        Assert.Equal(metrics.WordErrorRate, scored.WordErrorRate, 10);
        Assert.True(metrics.WordAccuracy >= AccuracySettings.MinimumWordAccuracy, $"word accuracy {metrics.WordAccuracy:P1} on unseen voices; expected ≥ {AccuracySettings.MinimumWordAccuracy:P0}. {metrics}");
        // The beam restricted to the corpus's 20 words, on the same trained model: it must not lose to greedy decoding.
        var listed = model.WithDecoder(CtcDecoder.PrefixBeamSearch, 8, SpokenCorpus.Words).Evaluate(test);
        output.WriteLine($"word-list beam: {listed}");
        Assert.True(listed.WordAccuracy >= metrics.WordAccuracy, $"word-list beam word accuracy {listed.WordAccuracy:P1} < greedy {metrics.WordAccuracy:P1}. {listed}");
    }
}

/// <summary>
/// The QuartzNet and Conformer encoders trained on the same corpus and split as <see cref="AccuracyTests"/> (30 epochs each, so each
/// stays near two minutes on two cores); thresholds sit below the benchmark's measured runs of the same settings and seed.
/// </summary>
[Collection(AccuracySettings.Collection)]
public sealed class EncoderAccuracyTests(ITestOutputHelper output)
{
    [Theory]
    [Trait("Category", "Accuracy")]
    [Trait("Category", "Slow")]
    [InlineData(SpeechEncoder.QuartzNet)]
    [InlineData(SpeechEncoder.Conformer)]
    public void SpeechRecognizer_Encoder_UnseenVoices_EarnsWordAccuracy(SpeechEncoder encoder)
    {
        if (!SpokenCorpus.Available())
            Assert.Fail("espeak-ng is missing: run `bash eng/install-reference-tools.sh`.");
        var ml = new MLContext(seed: 1);
        var train = Corpus.Loaded(ml, Corpus.Training(AccuracySettings.TrainingClips));
        var test = Corpus.Loaded(ml, Corpus.Test(AccuracySettings.TestClips));
        var options = AccuracySettings.Options(encoder);
        var watch = Stopwatch.StartNew();
        using var model = ml.SpeechRecognition().Trainers.SpeechRecognizer(options).Fit(train);
        var trained = watch.Elapsed;
        var metrics = model.Evaluate(test);
        output.WriteLine($"{encoder}: training {trained.TotalSeconds:F1} s, {model.History.Count} epochs; unseen voices: {metrics}");
        foreach (var epoch in model.History)
            output.WriteLine(epoch.ToString());
        var minimum = AccuracySettings.MinimumWordAccuracyOf(encoder);
        Assert.True(metrics.WordAccuracy >= minimum, $"{encoder}: word accuracy {metrics.WordAccuracy:P1} on unseen voices; expected ≥ {minimum:P0}. {metrics}");
    }
}

internal static class AccuracySettings
{
    /// <summary>
    /// The accuracy tests run one after another, not in parallel: dropout draws from torch's process-wide generator, so two
    /// trainings running at once interleave their draws and their results change (measured 2026-12-01: run concurrently,
    /// DeepSpeech2 gave 92.1 % instead of 88.9 %, Conformer 63.5 % instead of 65.1 %).
    /// </summary>
    public const string Collection = "Audio accuracy (sequential training)";

    public const int TrainingClips = 448;
    public const int TestClips = 80;
    /// <summary>Measured 86.5 % (WER 13.5 %, CER 4.2 %) with these settings and the windowed-sinc resampler (88.9 % before it; benchmark --speech, same corpus and seed).</summary>
    public const double MinimumWordAccuracy = 0.80;

    /// <summary>
    /// Thresholds of the other encoders, below their measured word accuracy with <see cref="Options(SpeechEncoder)"/> (benchmark
    /// --speech, same corpus and seed, and this test): QuartzNet 65.1 %, Conformer 61.1 % (62.7 % / 65.1 % before the resampler fix) after 30
    /// epochs on the busy 2-core VM — neither has converged. QuartzNet's unconverged trajectory depends on the CPU's kernels:
    /// 52.4 % on an AMD Zen 5 VM with oneDNN capped at AVX2 (2026-12-02), hence its lower bound (word-level chance is ~5 %).
    /// </summary>
    public static double MinimumWordAccuracyOf(SpeechEncoder encoder) => encoder switch
    {
        SpeechEncoder.QuartzNet => 0.50,
        SpeechEncoder.Conformer => 0.55,
        _ => MinimumWordAccuracy,
    };

    /// <summary>The settings of each encoder (the benchmark's <c>EncoderOptions</c> are the same).</summary>
    public static SpeechRecognizerOptions Options(SpeechEncoder encoder)
    {
        var options = Options();
        options.Architecture = encoder;
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
        return options;
    }

    public static SpeechRecognizerOptions Options() => new()
    {
        Epochs = 40,
        BatchSize = 16,
        LearningRate = 3e-3,
        // One torch thread: on a busy 2-core machine two intra-op threads made an epoch 20–60× slower (spinning).
        NumberOfThreads = 1,
        Encoder = new DeepSpeech2Parameters { Channels = 16, HiddenSize = 96, RecurrentLayers = 2 },
        Vocabulary = "abcdefghijklmnopqrstuvwxyz ",
    };
}

/// <summary>Appends each epoch (with elapsed seconds) to a log file, readable while the test runs.</summary>
internal sealed class LogCallback(string path, Stopwatch clock) : TrainingCallback
{
    public override void OnEpochEnd(EpochMetrics metrics) => File.AppendAllText(path, $"{clock.Elapsed.TotalSeconds:F1}s {metrics}\n");
}

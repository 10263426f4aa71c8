using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Audio.Data;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Audio.Tests;

/// <summary>Keyword spotting: single spoken words (ten digits + ten commands) → one of 20 classes, unseen voices at test time.</summary>
[Collection(AccuracySettings.Collection)]
public sealed class AudioClassifierTests(ITestOutputHelper output)
{
    private static AudioClassifierOptions Small(int epochs) => new()
    {
        Epochs = epochs,
        NumberOfThreads = 1,
        LabelColumnName = "Label",
    };

    private static IEstimator<ITransformer> Labels(MLContext ml) => ml.Transforms.Conversion.MapValueToKey("Label", "Transcript");

    [Theory]
    [Trait("Category", "Accuracy")]
    [Trait("Category", "Slow")]
    [InlineData(TrainingPrecision.Float32)]
    [InlineData(TrainingPrecision.MixedBFloat16)]
    public void AudioClassifier_UnseenVoices_EarnsAccuracy(TrainingPrecision precision)
    {
        if (!SpokenCorpus.Available())
            Assert.Fail("espeak-ng is missing: run `bash eng/install-reference-tools.sh`.");
        var ml = new MLContext(seed: 1);
        var train = Corpus.Loaded(ml, Corpus.Training(KeywordSettings.TrainingClips, seed: 11, maxWords: 1));
        var test = Corpus.Loaded(ml, Corpus.Test(KeywordSettings.TestClips, seed: 12, maxWords: 1));
        var watch = Stopwatch.StartNew();
        var options = KeywordSettings.Options();
        options.Precision = precision;
        var model = Labels(ml).Append(ml.MulticlassClassification.Trainers.AudioClassifier(options)).Fit(train);
        var trained = watch.Elapsed;
        try
        {
            var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
            output.WriteLine($"{precision}: training {trained.TotalSeconds:F1} s; unseen voices: accuracy {metrics.MicroAccuracy:P1}, macro {metrics.MacroAccuracy:P1}, log-loss {metrics.LogLoss:F3}");
            foreach (var epoch in model.LastTransformer.LastTransformer.History)
                output.WriteLine(epoch.ToString());
            Assert.True(metrics.MicroAccuracy >= KeywordSettings.MinimumAccuracy,
                $"accuracy {metrics.MicroAccuracy:P1} on unseen voices; expected ≥ {KeywordSettings.MinimumAccuracy:P0}");
        }
        finally
        {
            model.LastTransformer.LastTransformer.Dispose();
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void AudioClassifier_SaveLoad_GivesIdenticalScores()
    {
        var ml = new MLContext(seed: 2);
        var data = Corpus.Loaded(ml, Corpus.Training(40, seed: 13, maxWords: 1));
        var model = Labels(ml).Append(ml.MulticlassClassification.Trainers.AudioClassifier(Small(epochs: 2))).Fit(data);
        var folder = Directory.CreateTempSubdirectory("mldx-audio-classifier-").FullName;
        try
        {
            var scored = model.Transform(data);
            var before = scored.GetColumn<float[]>("Score").ToArray();
            var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
            Assert.True(before[0].Length >= 10, $"one score per word in the data; got {before[0].Length}");
            var zip = Path.Combine(folder, "model.zip");
            ml.Model.Save(model, data.Schema, zip);
            var fresh = new MLContext(seed: 9);
            var loaded = fresh.Model.Load(zip, out _);
            var chain = Assert.IsAssignableFrom<TransformerChain<ITransformer>>(loaded);
            var parts = Flatten(chain).ToArray();
            Assert.Contains(parts, t => t is AudioFeaturizingTransformer);
            Assert.Contains(parts, t => t is NeuralNetworkTransformer);
            var after = loaded.Transform(data);
            Assert.Equal(before, after.GetColumn<float[]>("Score").ToArray());
            Assert.Equal(predicted, after.GetColumn<uint>("PredictedLabel").ToArray());
            // The predicted label keeps the label's key values (the words).
            var words = new VBuffer<ReadOnlyMemory<char>>();
            after.Schema["PredictedLabel"].GetKeyValues(ref words);
            Assert.Contains("seven", words.DenseValues().Select(w => w.ToString()));
            foreach (var t in parts.OfType<IDisposable>())
                t.Dispose();
        }
        finally
        {
            model.LastTransformer.LastTransformer.Dispose();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static System.Collections.Generic.IEnumerable<ITransformer> Flatten(ITransformer transformer)
        => transformer is TransformerChain<ITransformer> chain ? chain.SelectMany(Flatten) : [transformer];

    [Fact]
    public void ComputeAudioFeatures_KeepsFirstFramesAndPadsWithZeros()
    {
        var ml = new MLContext(seed: 1);
        var clip = Corpus.Training(1, seed: 13, maxWords: 1)[0];
        var samples = Corpus.Samples(clip);
        var options = new AudioFeatureOptions();
        var expected = AudioFeatures.Compute(samples, options);
        var rows = ml.Data.LoadFromEnumerable(new[] { new SampleRow { Audio = samples, Transcript = clip.Transcript } });
        foreach (var frames in new[] { 10, expected.Length + 7 })
        {
            var featurized = ml.Transforms.ComputeAudioFeatures("F", "Audio", frames).Fit(rows).Transform(rows);
            Assert.Equal(frames * 40, ((VectorDataViewType)featurized.Schema["F"].Type).Size);
            var values = featurized.GetColumn<float[]>("F").Single();
            for (var f = 0; f < frames; f++)
            {
                var row = values.AsSpan(f * 40, 40).ToArray();
                Assert.Equal(f < expected.Length ? expected[f] : new float[40], row);
            }
        }
    }

    [Fact]
    public void AudioClassifier_MissingAudioColumn_ThrowsNamingIt()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new ClipRow { AudioPath = "a.wav", Transcript = "yes" } });
        var error = Assert.ThrowsAny<ArgumentException>(() => Labels(ml).Append(ml.MulticlassClassification.Trainers.AudioClassifier(Small(1))).Fit(data));
        Assert.Contains("Audio column 'Audio' not found", error.Message);
    }

    [Fact]
    public void AudioClassifier_AudioOfWrongType_ThrowsNamingTheColumn()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new ClipRow { AudioPath = "a.wav", Transcript = "yes" } });
        var options = Small(1);
        options.AudioColumnName = "AudioPath";
        var error = Assert.ThrowsAny<ArgumentException>(() => Labels(ml).Append(ml.MulticlassClassification.Trainers.AudioClassifier(options)).Fit(data));
        Assert.Contains("'AudioPath'", error.Message);
        Assert.Contains("vector of Single", error.Message);
    }

    [Fact]
    public void AudioClassifier_LabelNotAKey_ThrowsNamingTheLabel()
    {
        var ml = new MLContext(seed: 1);
        var data = Corpus.Loaded(ml, Corpus.Training(4, seed: 13, maxWords: 1));
        var options = Small(1);
        options.LabelColumnName = "Transcript";
        var error = Assert.ThrowsAny<ArgumentException>(() => ml.MulticlassClassification.Trainers.AudioClassifier(options).Fit(data));
        Assert.Contains("'Transcript'", error.Message);
        Assert.Contains("label", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void AudioClassifier_BadOptions_ThrowNamingTheOption()
    {
        var ml = new MLContext();
        var frames = Small(1);
        frames.Frames = 0;
        Assert.Contains("Frames", Assert.ThrowsAny<ArgumentException>(() => ml.MulticlassClassification.Trainers.AudioClassifier(frames)).Message);
        var epochs = Small(0);
        Assert.Contains("Epochs", Assert.ThrowsAny<ArgumentException>(() => ml.MulticlassClassification.Trainers.AudioClassifier(epochs)).Message);
    }
}

internal static class KeywordSettings
{
    public const int TrainingClips = 1120;
    public const int TestClips = 160;

    /// <summary>
    /// Measured 96.9 % (macro 95.3 %, log-loss 0.234; best epoch 29 of 30) on an AMD EPYC (Zen 2), 2026-12-02. The test used
    /// to train on 560 clips and keep the last epoch: 74.4 % on the Intel machine it was written on, 50.6 % on the AMD one
    /// (54.4 % with best-epoch selection) — the unseen-voice accuracy of that small set swings from epoch to epoch, and
    /// libtorch's CPU-specific kernels change the trajectory. Twice the clips and the epoch chosen on held-out clips of the
    /// training voices (docs/speech.md's recipe) make the result stable enough to assert a useful floor.
    /// </summary>
    public const double MinimumAccuracy = 0.85;

    public static AudioClassifierOptions Options() => new()
    {
        Epochs = 30,
        NumberOfThreads = 1,
        ValidationFraction = 0.1,
        EarlyStopping = new EarlyStopping("ValidationLoss", patience: 8, restoreBestWeights: true),
    };
}

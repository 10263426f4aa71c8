using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Audio.Data;
using ML.DeepExtensions.TestSupport;
using Xunit;

namespace ML.DeepExtensions.Audio.Tests;

/// <summary>End-to-end behaviour of the recogniser on a tiny model: persistence in a fresh process, scoring paths agree,
/// bad input is named. Accuracy is <see cref="AccuracyTests"/>' business.</summary>
public sealed class SpeechRecognizerTests
{
    private static SpeechRecognizerOptions Tiny(int epochs = 1) => new()
    {
        Epochs = epochs,
        BatchSize = 8,
        NumberOfThreads = 1,
        Encoder = new DeepSpeech2Parameters { Channels = 4, HiddenSize = 16, RecurrentLayers = 1 },
    };

    private static IDataView Rows(MLContext ml, params (float[] Audio, string Transcript)[] rows)
        => ml.Data.LoadFromEnumerable(rows.Select(r => new SampleRow { Audio = r.Audio, Transcript = r.Transcript }).ToArray());

    private static float[] Noise(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() - 0.5) * 0.2f).ToArray();
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void SaveLoad_FreshProcess_GivesIdenticalTranscripts_AndScoringPathsAgree()
    {
        var ml = new MLContext(seed: 3);
        var clips = Corpus.Training(24, seed: 21);
        var paths = Corpus.Paths(ml, clips);
        var pipeline = ml.Transforms.LoadAudio("Audio", "AudioPath")
            .Append(ml.SpeechRecognition().Trainers.SpeechRecognizer(Tiny(epochs: 2)));
        var model = pipeline.Fit(paths);
        var recognizer = model.LastTransformer;
        try
        {
            var scored = model.Transform(paths);
            var inProcess = scored.GetColumn<string>("PredictedTranscript").ToArray();
            Assert.Equal(clips.Count, inProcess.Length);
            // The batched API and the row-by-row transform agree.
            var batched = recognizer.Transcribe(clips.Select(Corpus.Samples).ToArray());
            Assert.Equal(inProcess, batched);
            // So does a PredictionEngine on one row.
            var engine = ml.Model.CreatePredictionEngine<ClipRow, Prediction>(model);
            Assert.Equal(inProcess[0], engine.Predict(new ClipRow { AudioPath = clips[0].Path }).PredictedTranscript);
            Assert.Contains("WordErrorRate", recognizer.History[^1].Training.Keys);
            // Transform scores 32 rows per forward pass: 45 rows cross a batch boundary, and every row's transcript equals
            // the PredictionEngine's (one row alone) — nothing lands on another row, padding changes nothing.
            var more = clips.Concat(Corpus.Test(21, seed: 23)).ToList();
            var morePaths = Corpus.Paths(ml, more);
            var transformed = model.Transform(morePaths).GetColumn<string>("PredictedTranscript").ToArray();
            Assert.Equal(45, transformed.Length);
            Assert.Equal(more.Select(c => engine.Predict(new ClipRow { AudioPath = c.Path }).PredictedTranscript), transformed);
            // A beam-search copy shares the weights; disposing it leaves the original usable.
            var beam = recognizer.WithDecoder(CtcDecoder.PrefixBeamSearch, 4);
            Assert.Equal((CtcDecoder.PrefixBeamSearch, 4), (beam.Decoder, beam.BeamWidth));
            Assert.Equal(clips.Count, beam.Transcribe(clips.Select(Corpus.Samples).ToArray()).Count);
            beam.Dispose();
            Assert.Equal(batched, recognizer.Transcribe(clips.Select(Corpus.Samples).ToArray()));

            // A word-list copy is saved with its list and penalty, and loads back decoding the same way.
            var words = SpokenCorpus.Words.Where(w => w.All(recognizer.Vocabulary.Contains)).ToArray();
            var listed = recognizer.WithDecoder(CtcDecoder.PrefixBeamSearch, 4, words, outOfListWordPenalty: 2.5);
            var withWords = listed.Transcribe(clips.Select(Corpus.Samples).ToArray());
            var audio = ml.Transforms.LoadAudio("Audio", "AudioPath").Fit(paths).Transform(paths);
            var listedZip = Path.Combine(Path.GetTempPath(), $"mldx-speech-wordlist-{Guid.NewGuid():N}.zip");
            try
            {
                ml.Model.Save(listed, audio.Schema, listedZip);
                using var reloaded = Assert.IsType<SpeechRecognitionTransformer>(new MLContext(seed: 9).Model.Load(listedZip, out _));
                Assert.Equal(words, reloaded.WordList);
                Assert.Equal((CtcDecoder.PrefixBeamSearch, 4, 2.5), (reloaded.Decoder, reloaded.BeamWidth, reloaded.OutOfListWordPenalty));
                Assert.Equal(withWords, reloaded.Transcribe(clips.Select(Corpus.Samples).ToArray()));
            }
            finally
            {
                File.Delete(listedZip);
            }

            var folder = Directory.CreateTempSubdirectory("mldx-speech-probe-").FullName;
            try
            {
                var zip = Path.Combine(folder, "model.zip");
                ml.Model.Save(model, paths.Schema, zip);
                var input = Path.Combine(folder, "input.idv");
                using (var stream = File.Create(input))
                    ml.Data.SaveAsBinary(paths, stream);
                var output = Path.Combine(folder, "output.idv");
                var (exit, stdout, stderr) = ProbeRunner.Run("transform", zip, input, output, "PredictedTranscript");
                Assert.True(exit == 0, stderr + stdout);
                Assert.Contains("SpeechRecognitionTransformer", stdout);
                Assert.Contains("AudioLoadingTransformer", stdout);
                var loaded = ml.Data.LoadFromBinary(output).GetColumn<string>("PredictedTranscript").ToArray();
                Assert.Equal(inProcess, loaded);
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        finally
        {
            recognizer.Dispose();
        }
    }

    private sealed class Prediction
    {
        public string PredictedTranscript { get; set; } = "";
    }

    [Fact]
    public void Fit_EmptyTranscript_ThrowsNamingTheRow()
    {
        var ml = new MLContext(seed: 1);
        var data = Rows(ml, (Noise(8000, 1), "yes"), (Noise(8000, 2), "  "), (Noise(8000, 3), "no"));
        var error = Assert.Throws<InvalidDataException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(Tiny()).Fit(data));
        Assert.Contains("row 1", error.Message);
        Assert.Contains("empty", error.Message);
    }

    [Fact]
    public void Fit_CharacterOutsideVocabulary_ThrowsNamingRowAndCharacter()
    {
        var ml = new MLContext(seed: 1);
        var data = Rows(ml, (Noise(8000, 1), "yes"), (Noise(8000, 2), "no"), (Noise(8000, 3), "go 4"));
        var options = Tiny();
        options.Vocabulary = "abcdefghijklmnopqrstuvwxyz ";
        var error = Assert.Throws<InvalidDataException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(options).Fit(data));
        Assert.Contains("row 2", error.Message);
        Assert.Contains("'4'", error.Message);
    }

    [Fact]
    public void Fit_AudioWithoutSamples_ThrowsNamingTheRow()
    {
        var ml = new MLContext(seed: 1);
        var data = Rows(ml, (Noise(8000, 1), "yes"), ([], "no"));
        var error = Assert.Throws<InvalidDataException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(Tiny()).Fit(data));
        Assert.Contains("row 1", error.Message);
        Assert.Contains("no samples", error.Message);
    }

    [Fact]
    public void Fit_AudioTooShortForTranscript_ThrowsNamingTheRow()
    {
        var ml = new MLContext(seed: 1);
        var data = Rows(ml, (Noise(8000, 1), "yes"), (Noise(400, 2), "seven eight nine"));
        var error = Assert.Throws<InvalidDataException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(Tiny()).Fit(data));
        Assert.Contains("row 1", error.Message);
        Assert.Contains("too short", error.Message);
    }

    [Fact]
    public void Options_SampleRateZero_ThrowsNamingTheOption()
    {
        var options = Tiny();
        options.Features.SampleRate = 0;
        var error = Assert.ThrowsAny<ArgumentException>(() => new MLContext().SpeechRecognition().Trainers.SpeechRecognizer(options));
        Assert.Contains("SampleRate", error.Message);
    }

    [Fact]
    public void Options_BadEncoderAndBeam_ThrowNamingTheOption()
    {
        var ml = new MLContext();
        var hidden = Tiny();
        hidden.Encoder.HiddenSize = 0;
        Assert.Contains("Encoder.HiddenSize", Assert.ThrowsAny<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(hidden)).Message);
        var beam = Tiny();
        beam.BeamWidth = 0;
        Assert.Contains("BeamWidth", Assert.ThrowsAny<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(beam)).Message);
        var vocabulary = Tiny();
        vocabulary.Vocabulary = "abca";
        Assert.Contains("Vocabulary", Assert.ThrowsAny<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(vocabulary)).Message);
    }

    [Fact]
    public void SchemaErrors_SameFromGetOutputSchemaAndFit()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new ClipRow { AudioPath = "x.wav", Transcript = "yes" } });
        var trainer = ml.SpeechRecognition().Trainers.SpeechRecognizer(Tiny());
        var fromShape = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(ML.DeepExtensions.TestSupport.Contract.ContractValues.Shape(data.Schema)));
        var fromFit = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(data));
        Assert.Equal(fromShape.Message, fromFit.Message);
        Assert.Contains("Audio column 'Audio' not found", fromFit.Message);
    }
}

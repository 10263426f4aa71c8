using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Audio;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using Xunit;

namespace ML.DeepExtensions.PublicApi.Tests;

public class AudioPublicApiTests
{
    public sealed class Clip
    {
        public string AudioPath { get; set; } = "";

        public string Transcript { get; set; } = "";
    }

    public sealed class Transcribed
    {
        public string PredictedTranscript { get; set; } = "";
    }

    /// <summary>A 16-bit mono PCM WAV of a tone (written by hand: the public API needs no audio library from the caller).</summary>
    private static void WriteTone(string path, double hz, int rate, double seconds)
    {
        var count = (int)(rate * seconds);
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write("RIFF"u8.ToArray());
        writer.Write(36 + count * 2);
        writer.Write("WAVEfmt "u8.ToArray());
        writer.Write(16);
        writer.Write((short)1);
        writer.Write((short)1);
        writer.Write(rate);
        writer.Write(rate * 2);
        writer.Write((short)2);
        writer.Write((short)16);
        writer.Write("data"u8.ToArray());
        writer.Write(count * 2);
        for (var i = 0; i < count; i++)
            writer.Write((short)(8000 * Math.Sin(2 * Math.PI * hz * i / rate)));
    }

    [Fact]
    public void SpeechRecognizer_TrainsSavesLoadsAndTranscribes_ThroughThePublicApiOnly()
    {
        using var directory = RepoData.Temporary();
        var clips = Enumerable.Range(0, 8).Select(i =>
        {
            var path = directory.File($"tone{i}.wav");
            WriteTone(path, i % 2 == 0 ? 300 : 1200, 22050, 0.5 + 0.05 * i);
            return new Clip { AudioPath = path, Transcript = i % 2 == 0 ? "low" : "high" };
        }).ToArray();
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(clips);
        var model = mlContext.Transforms.LoadAudio("Audio", "AudioPath")
            .Append(mlContext.SpeechRecognition().Trainers.SpeechRecognizer(new SpeechRecognizerOptions
            {
                Epochs = 2,
                BatchSize = 4,
                NumberOfThreads = 1,
                Encoder = new DeepSpeech2Parameters { Channels = 4, HiddenSize = 16, RecurrentLayers = 1 },
            }))
            .Fit(data);
        var recognizer = model.GetNetwork<SpeechRecognitionTransformer>();
        Assert.Equal("ghilow", recognizer.Vocabulary);
        Assert.Contains("DeepSpeech2", ArchitectureRegistry.Names);
        Assert.Equal(2, recognizer.History.Count);
        var transcripts = model.Transform(data).GetColumn<string>("PredictedTranscript").ToArray();
        var metrics = mlContext.SpeechRecognition().Evaluate(model.Transform(data));
        Assert.Equal(8, metrics.Rows);

        var path = directory.File("speech.zip");
        mlContext.Model.Save(model, data.Schema, path);
        var fresh = new MLContext();
        var loaded = fresh.Model.Load(path, out _);
        var engine = fresh.Model.CreatePredictionEngine<Clip, Transcribed>(loaded);
        Assert.Equal(transcripts, clips.Select(c => engine.Predict(new Clip { AudioPath = c.AudioPath }).PredictedTranscript).ToArray());
        var frames = AudioFeatures.Compute(WavAudio.Read(clips[0].AudioPath, 16000), new AudioFeatureOptions());
        Assert.Equal(1 + WavAudio.Read(clips[0].AudioPath, 16000).Length / 160, frames.Length);
        Assert.All(frames, f => Assert.Equal(40, f.Length));
        var picture = directory.File("spectrogram.png");
        ML.DeepExtensions.Plots.TrainingPlots.SaveSpectrogram(frames, picture, "tone", $"decoded: \"{transcripts[0]}\"");
        var png = File.ReadAllBytes(picture);
        Assert.True(png.Length > 1000 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G', $"{png.Length} bytes");
        Assert.Throws<ArgumentException>(() => ML.DeepExtensions.Plots.TrainingPlots.SaveSpectrogram([new float[3], new float[2]], picture));

        // The word-list beam through the public API: a copy restricted to the two words outputs nothing else.
        var listed = recognizer.WithDecoder(CtcDecoder.PrefixBeamSearch, 4, ["low", "high"]);
        Assert.Equal(["low", "high"], listed.WordList);
        Assert.All(listed.Transcribe(clips.Select(c => WavAudio.Read(c.AudioPath, 16000)).ToArray()),
            t => Assert.True(t.Length == 0 || t.Split(' ').All(w => w is "low" or "high"), t));
        // And on one's own scores: classes 0 blank, 1 'a', 2 'b'; "ab" is heard, only "aa" is listed.
        var scores = new[] { 0.1, 0.8, 0.1, 0.8, 0.1, 0.1, 0.1, 0.3, 0.6 }.Select(p => (float)Math.Log(p)).ToArray();
        Assert.Equal([1, 2], CtcDecoding.PrefixBeamSearch(scores, 3, 3, 4));
        Assert.Equal([1, 1], CtcDecoding.PrefixBeamSearch(scores, 3, 3, 4, new CtcWordList([[1, 1]], separator: -1)));
        recognizer.Dispose();
    }
}

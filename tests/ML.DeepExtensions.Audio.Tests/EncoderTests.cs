using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Scoring;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Audio.Tests;

/// <summary>The three encoders of the recogniser: output lengths, padding invariance, persistence, option checks.
/// Accuracy is <see cref="AccuracyTests"/>' business.</summary>
public sealed class EncoderTests
{
    internal static SpeechRecognizerOptions Tiny(SpeechEncoder encoder, int epochs = 1) => new()
    {
        Architecture = encoder,
        Epochs = epochs,
        BatchSize = 8,
        NumberOfThreads = 1,
        Encoder = new DeepSpeech2Parameters { Channels = 4, HiddenSize = 16, RecurrentLayers = 1 },
        QuartzNet = new QuartzNetParameters { Blocks = 2, Repeats = 2, Channels = 16, EpilogueChannels = 16 },
        Conformer = new ConformerParameters { Layers = 1, ModelSize = 16, Heads = 2, FeedForwardSize = 32, SubsamplingChannels = 4 },
    };

    [Theory]
    [InlineData(SpeechEncoder.DeepSpeech2, new long[] { 1, 2, 3, 4, 5, 100, 101 }, new long[] { 1, 1, 2, 2, 3, 50, 51 })]
    [InlineData(SpeechEncoder.QuartzNet, new long[] { 1, 2, 3, 4, 5, 100, 101 }, new long[] { 1, 1, 2, 2, 3, 50, 51 })]
    [InlineData(SpeechEncoder.Conformer, new long[] { 1, 2, 3, 4, 5, 100, 101 }, new long[] { 1, 1, 1, 1, 2, 25, 26 })]
    public void Encoder_OutputFrames_MatchWhatTheNetworkProduces(SpeechEncoder encoder, long[] frames, long[] expected)
    {
        var options = Tiny(encoder);
        var network = SpeechRecognitionTask.Network(options, classes: 5);
        var inputShape = SpeechRecognitionTask.InputShape(options.Features);
        var outputFrames = SpeechEncoding.OutputFrames(network, inputShape);
        using var model = NetworkModel.Build(network, inputShape, seed: 1, CPU);
        model.Module.eval();
        for (var i = 0; i < frames.Length; i++)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var input = torch.randn(1, frames[i], inputShape[0]);
            input[.., .., inputShape[0] - 1] = 1;
            var output = model.Module.forward(input);
            Assert.Equal(expected[i], outputFrames(frames[i]));
            Assert.Equal(new long[] { 1, expected[i], 5 }, output.shape);
        }
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData(SpeechEncoder.DeepSpeech2)]
    [InlineData(SpeechEncoder.QuartzNet)]
    [InlineData(SpeechEncoder.Conformer)]
    public void Encoder_UtteranceBatchedWithALongerOne_GivesTheSameLogitsOnItsFrames(SpeechEncoder encoder)
    {
        var ml = new MLContext(seed: 5);
        var clips = Corpus.Training(16, seed: 41);
        // Two epochs, so batch norms hold trained running statistics (used in inference mode).
        using var model = ml.SpeechRecognition().Trainers.SpeechRecognizer(Tiny(encoder, epochs: 2)).Fit(Corpus.Loaded(ml, clips));
        var samples = clips.Select(Corpus.Samples).ToArray();
        var shortest = Array.IndexOf(samples, samples.MinBy(s => s.Length));
        var longest = Array.IndexOf(samples, samples.MaxBy(s => s.Length));
        using var bank = new FeatureBank(model.Features, CPU);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        model.Model.Module.eval();
        var (alone, aloneFrames) = bank.Batch([samples[shortest]]);
        var (both, frames) = bank.Batch([samples[shortest], samples[longest]]);
        Assert.True(frames[1] >= frames[0] + 20, $"the clips should differ in length: {frames[0]} and {frames[1]} frames");
        var valid = model.OutputFrames(aloneFrames[0]);
        var single = model.Model.Module.forward(alone);
        var batched = model.Model.Module.forward(both);
        Assert.Equal(valid, single.shape[1]);
        Assert.Equal(model.OutputFrames(frames[1]), batched.shape[1]);
        var difference = single[0, ..(int)valid].sub(batched[0, ..(int)valid]).abs().max().item<float>();
        Assert.True(difference <= 1e-5f, $"{encoder}: logits of the valid frames differ by {difference} when the utterance is batched with a longer one");
        // The logits are not trivially equal (e.g. all zero): they vary over frames.
        Assert.True(single.std().item<float>() > 1e-3f);
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData(SpeechEncoder.QuartzNet)]
    [InlineData(SpeechEncoder.Conformer)]
    public void Encoder_SaveLoad_GivesIdenticalLogitsAndTranscripts(SpeechEncoder encoder)
    {
        var ml = new MLContext(seed: 3);
        var clips = Corpus.Training(24, seed: 21);
        var data = Corpus.Loaded(ml, clips);
        using var model = ml.SpeechRecognition().Trainers.SpeechRecognizer(Tiny(encoder, epochs: 2)).Fit(data);
        var samples = clips.Select(Corpus.Samples).ToArray();
        var transcripts = model.Transcribe(samples);
        var folder = Directory.CreateTempSubdirectory("mldx-speech-encoder-").FullName;
        try
        {
            var zip = Path.Combine(folder, "model.zip");
            ml.Model.Save(model, data.Schema, zip);
            var fresh = new MLContext(seed: 99);
            var loaded = Assert.IsType<SpeechRecognitionTransformer>(fresh.Model.Load(zip, out _));
            using (loaded)
            {
                Assert.Equal(encoder.ToString(), ((ML.DeepExtensions.Networks.ArchitectureLayer)loaded.Network.Layers[0]).Name);
                Assert.Equal(transcripts, loaded.Transcribe(samples));
                Assert.Equal(transcripts, fresh.Data.CreateEnumerable<Scored>(loaded.Transform(data), reuseRowObject: false).Select(r => r.PredictedTranscript).ToArray());
                using var bank = new FeatureBank(model.Features, CPU);
                using var scope = torch.NewDisposeScope();
                using var noGrad = torch.no_grad();
                var (features, _) = bank.Batch(samples.Take(8).ToArray());
                var before = model.Model.Module.forward(features).data<float>().ToArray();
                var after = loaded.Model.Module.forward(features).data<float>().ToArray();
                Assert.Equal(before, after);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private sealed class Scored
    {
        public string PredictedTranscript { get; set; } = "";
    }

    [Fact]
    public void Options_BadQuartzNetAndConformer_ThrowNamingTheOption()
    {
        var ml = new MLContext();
        var kernel = Tiny(SpeechEncoder.QuartzNet);
        kernel.QuartzNet.KernelSize = 12;
        Assert.Contains("QuartzNet.KernelSize", Assert.ThrowsAny<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(kernel)).Message);
        var blocks = Tiny(SpeechEncoder.QuartzNet);
        blocks.QuartzNet.Repeats = 0;
        Assert.Contains("QuartzNet.Repeats", Assert.ThrowsAny<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(blocks)).Message);
        var heads = Tiny(SpeechEncoder.Conformer);
        heads.Conformer.Heads = 3;
        Assert.Contains("Conformer.ModelSize", Assert.ThrowsAny<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(heads)).Message);
        var masks = Tiny(SpeechEncoder.Conformer);
        masks.Conformer.TimeMasks = -1;
        Assert.Contains("Conformer.TimeMasks", Assert.ThrowsAny<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(masks)).Message);
        var undefined = Tiny(SpeechEncoder.Conformer);
        undefined.Architecture = (SpeechEncoder)7;
        Assert.Contains("Architecture", Assert.ThrowsAny<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(undefined)).Message);
    }
}

using System;
using System.IO;
using System.Linq;
using ML.DeepExtensions.Audio.Data;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Audio.Tests;

/// <summary>Mel filterbanks, log-mel spectrograms and MFCCs against torchaudio 0.13.1 on a real espeak-ng clip.</summary>
public sealed class FeatureParityTests(ITestOutputHelper output) : IDisposable
{
    private const double Tolerance = 1e-4;
    private readonly string _folder = Directory.CreateTempSubdirectory("mldx-audio-parity-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static AudioFeatureOptions Options(MelScale scale, AudioFeatureKind kind = AudioFeatureKind.LogMel) => new()
    {
        SampleRate = 16000,
        FftSize = 400,
        HopLength = 160,
        MelBins = 40,
        MinFrequency = 20,
        MaxFrequency = 7600,
        Scale = scale,
        Kind = kind,
        MfccCount = 13,
        NormalizePerUtterance = false,
    };

    [Fact]
    [Trait("Category", "Reference")]
    public void FilterbankLogMelAndMfcc_MatchTorchaudio()
    {
        var clip = Corpus.Test(1, seed: 11)[0];
        var samples = Corpus.Samples(clip);
        var input = Path.Combine(_folder, "samples.f32");
        Reference.WriteFloats(input, samples);
        Reference.Run("features", input, _folder, "16000", "400", "160", "40", "20", "7600", "13");

        foreach (var (scale, name) in new[] { (MelScale.Htk, "htk"), (MelScale.Slaney, "slaney") })
        {
            var bank = AudioFeatures.MelFilterbank(Options(scale)).SelectMany(r => r).ToArray();
            Check($"filterbank {name}", Reference.ReadFloats(Path.Combine(_folder, $"fbank_{name}.f32")), bank);
            var logMel = AudioFeatures.Compute(samples, Options(scale)).SelectMany(r => r).ToArray();
            Check($"log-mel {name}", Reference.ReadFloats(Path.Combine(_folder, $"logmel_{name}.f32")), logMel);
        }
        var mfcc = AudioFeatures.Compute(samples, Options(MelScale.Htk, AudioFeatureKind.Mfcc)).SelectMany(r => r).ToArray();
        Check("MFCC", Reference.ReadFloats(Path.Combine(_folder, "mfcc.f32")), mfcc);
    }

    private void Check(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = Enumerable.Range(0, expected.Length).MaxBy(i => Math.Abs(expected[i] - actual[i]));
        var maxAbs = Math.Abs(expected[worst] - actual[worst]);
        output.WriteLine($"{what}: {expected.Length} values, max abs difference {maxAbs:E2}");
        Assert.True(maxAbs <= Tolerance, $"{what}: max abs difference {maxAbs:E2} > {Tolerance} at value {worst} (expected {expected[worst]}, got {actual[worst]})");
    }

    [Fact]
    public void NormalizedFeatures_HaveZeroMeanUnitVariancePerChannel_AndDoNotDependOnTheBatch()
    {
        var clips = Corpus.Test(3, seed: 12);
        var options = new AudioFeatureOptions();
        var alone = clips.Select(c => AudioFeatures.Compute(Corpus.Samples(c), options)).ToArray();
        foreach (var utterance in alone)
        {
            for (var m = 0; m < options.MelBins; m++)
            {
                var column = utterance.Select(f => (double)f[m]).ToArray();
                var mean = column.Average();
                Assert.InRange(mean, -1e-4, 1e-4);
                Assert.InRange(Math.Sqrt(column.Average(v => (v - mean) * (v - mean))), 0.99, 1.0001);
            }
        }
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var bank = new FeatureBank(options, TorchSharp.torch.CPU);
        var (batch, frames) = bank.Batch(clips.Select(Corpus.Samples).ToArray());
        for (var i = 0; i < clips.Count; i++)
        {
            Assert.Equal(alone[i].Length, (int)frames[i]);
            var row = batch[i].narrow(0, 0, frames[i]).narrow(1, 0, options.MelBins).contiguous().data<float>().ToArray();
            Assert.Equal(alone[i].SelectMany(f => f).ToArray(), row);
            Assert.All(batch[i].narrow(1, options.MelBins, 1).squeeze(1).data<float>().ToArray().Select((v, t) => (v, t)),
                p => Assert.Equal(p.t < frames[i] ? 1f : 0f, p.v));
        }
    }

    [Fact]
    public void Options_BadValues_ThrowNamingTheOption()
    {
        Assert.Contains("SampleRate", Assert.ThrowsAny<ArgumentException>(() => new AudioFeatureOptions { SampleRate = 0 }.Validate()).Message);
        Assert.Contains("MaxFrequency", Assert.ThrowsAny<ArgumentException>(() => new AudioFeatureOptions { MaxFrequency = 9000 }.Validate()).Message);
        Assert.Contains("MfccCount", Assert.ThrowsAny<ArgumentException>(() => new AudioFeatureOptions { Kind = AudioFeatureKind.Mfcc, MfccCount = 41 }.Validate()).Message);
        Assert.Contains("WindowLength", Assert.ThrowsAny<ArgumentException>(() => new AudioFeatureOptions { WindowLength = 401 }.Validate()).Message);
    }
}

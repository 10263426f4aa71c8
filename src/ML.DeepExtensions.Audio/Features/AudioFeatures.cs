using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// Log-mel spectrograms and MFCCs of mono audio (see <see cref="AudioFeatureOptions"/> for the definitions), as tensor
/// ops: what the speech recogniser computes for every training and scoring batch, and what users can call directly
/// (e.g. to draw a spectrogram).
/// </summary>
public static class AudioFeatures
{
    /// <summary>The features of one utterance, frames × <see cref="AudioFeatureOptions.FeaturesPerFrame"/> (row-major).</summary>
    /// <param name="samples">Mono samples at <see cref="AudioFeatureOptions.SampleRate"/>; at least one.</param>
    /// <param name="options">Feature settings (validated here).</param>
    public static float[][] Compute(float[] samples, AudioFeatureOptions options)
    {
        Guard.NotNull(samples);
        Guard.NotNull(options).Validate();
        if (samples.Length == 0)
            throw new ArgumentException("An utterance needs at least one sample. Received: 0 samples", nameof(samples));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var bank = CachedBank(options);
        var features = bank.Utterance(samples).contiguous();
        var values = HostCopy.ToArray<float>(features);
        var width = (int)features.shape[1];
        return Enumerable.Range(0, (int)features.shape[0]).Select(f => values.AsSpan(f * width, width).ToArray()).ToArray();
    }

    // The window, filterbank and DCT tensors of the last setting used on this thread: a loop over utterances with one setting
    // builds them once (they were rebuilt per call before). Keyed by the settings' values, so changing the options object
    // between calls is seen. One small bank per thread stays alive; it holds no utterance data.
    [ThreadStatic]
    private static (string Key, FeatureBank Bank)? _cachedBank;

    private static FeatureBank CachedBank(AudioFeatureOptions options)
    {
        var key = System.Text.Json.JsonSerializer.Serialize(options);
        if (_cachedBank is { } cached && cached.Key == key)
            return cached.Bank;
        _cachedBank?.Bank.Dispose();
        var bank = new FeatureBank(options, CPU);
        _cachedBank = (key, bank);
        return bank;
    }

    /// <summary>The mel filterbank, (FftSize/2 + 1) × <see cref="AudioFeatureOptions.MelBins"/>, as torchaudio's <c>melscale_fbanks</c>.</summary>
    public static float[][] MelFilterbank(AudioFeatureOptions options)
    {
        Guard.NotNull(options).Validate();
        var bank = Filterbank(options);
        return Enumerable.Range(0, bank.GetLength(0)).Select(f => Enumerable.Range(0, bank.GetLength(1)).Select(m => (float)bank[f, m]).ToArray()).ToArray();
    }

    internal static double[,] Filterbank(AudioFeatureOptions o)
    {
        var frequencies = o.FftSize / 2 + 1;
        var nyquist = o.SampleRate / 2; // torchaudio: linspace(0, sample_rate // 2, n_freqs)
        var fMax = o.MaxFrequency ?? nyquist;
        var melMin = HzToMel(o.MinFrequency, o.Scale);
        var melMax = HzToMel(fMax, o.Scale);
        var points = new double[o.MelBins + 2];
        for (var i = 0; i < points.Length; i++)
            points[i] = MelToHz(melMin + (melMax - melMin) * i / (o.MelBins + 1), o.Scale);
        var bank = new double[frequencies, o.MelBins];
        for (var f = 0; f < frequencies; f++)
        {
            var hz = frequencies == 1 ? 0 : (double)nyquist * f / (frequencies - 1);
            for (var m = 0; m < o.MelBins; m++)
            {
                var down = (hz - points[m]) / (points[m + 1] - points[m]);
                var up = (points[m + 2] - hz) / (points[m + 2] - points[m + 1]);
                var weight = Math.Max(0, Math.Min(down, up));
                if (o.Scale == MelScale.Slaney)
                    weight *= 2.0 / (points[m + 2] - points[m]);
                bank[f, m] = weight;
            }
        }
        return bank;
    }

    private const double SlaneyStep = 200.0 / 3;
    private const double SlaneyMinLogHz = 1000;
    private const double SlaneyMinLogMel = SlaneyMinLogHz / SlaneyStep;
    private static readonly double SlaneyLogStep = Math.Log(6.4) / 27.0;

    private static double HzToMel(double hz, MelScale scale) => scale == MelScale.Htk
        ? 2595.0 * Math.Log10(1.0 + hz / 700.0)
        : hz >= SlaneyMinLogHz ? SlaneyMinLogMel + Math.Log(hz / SlaneyMinLogHz) / SlaneyLogStep : hz / SlaneyStep;

    private static double MelToHz(double mel, MelScale scale) => scale == MelScale.Htk
        ? 700.0 * (Math.Pow(10, mel / 2595.0) - 1.0)
        : mel >= SlaneyMinLogMel ? SlaneyMinLogHz * Math.Exp(SlaneyLogStep * (mel - SlaneyMinLogMel)) : SlaneyStep * mel;
}

/// <summary>
/// The tensors of one feature setting on one device (window, filterbank, DCT matrix), and the batch computation:
/// each utterance is transformed alone (its own centred framing and reflect padding, its own normalisation), then the
/// batch is padded with zeros to its longest utterance.
/// </summary>
internal sealed class FeatureBank : IDisposable
{
    private readonly AudioFeatureOptions _options;
    private readonly Tensor _window;
    private readonly Tensor _filterbank;
    private readonly Tensor? _dct;

    public FeatureBank(AudioFeatureOptions options, Device device)
    {
        _options = options.Clone();
        var o = _options;
        // Float64 throughout, cast to Float32 at the end: in float32 the FFT's rounding (relative to a frame's energy) moves
        // bins 70 dB below the frame's peak by up to 4e-4 dB between libtorch builds; in float64 the features are exact to
        // float32 precision and equal torchaudio's definitions run in float64 (FeatureParityTests).
        _window = torch.hann_window(o.WindowLength ?? o.FftSize, periodic: true, dtype: ScalarType.Float64, device: device);
        var bank = AudioFeatures.Filterbank(o);
        _filterbank = torch.tensor(bank.Cast<double>().ToArray(), new long[] { bank.GetLength(0), bank.GetLength(1) }, dtype: ScalarType.Float64, device: device);
        if (o.Kind == AudioFeatureKind.Mfcc)
        {
            // torchaudio.functional.create_dct(n_mfcc, n_mels, norm="ortho"), (n_mels, n_mfcc).
            var dct = new double[o.MelBins * o.MfccCount];
            for (var n = 0; n < o.MelBins; n++)
            {
                for (var k = 0; k < o.MfccCount; k++)
                {
                    var value = Math.Cos(Math.PI / o.MelBins * (n + 0.5) * k) * Math.Sqrt(2.0 / o.MelBins);
                    dct[n * o.MfccCount + k] = k == 0 ? value / Math.Sqrt(2.0) : value;
                }
            }
            _dct = torch.tensor(dct, new long[] { o.MelBins, o.MfccCount }, dtype: ScalarType.Float64, device: device);
        }
        _window.DetachFromDisposeScope();
        _filterbank.DetachFromDisposeScope();
        _dct?.DetachFromDisposeScope();
    }

    public AudioFeatureOptions Options => _options;

    /// <summary>Features of one utterance, (frames, features per frame).</summary>
    public Tensor Utterance(float[] samples)
    {
        using var input = torch.tensor(samples, device: _window.device);
        return Utterance(input);
    }

    /// <summary>Features of one utterance given as a 1-D tensor, (frames, features per frame).</summary>
    public Tensor Utterance(Tensor samples)
    {
        using var scope = torch.NewDisposeScope();
        var o = _options;
        var input = samples.to(ScalarType.Float64);
        // Reflect padding needs more samples than half the FFT; shorter clips are zero-padded first (documented limit).
        var half = o.FftSize / 2;
        if (input.shape[0] <= half)
            input = nn.functional.pad(input, [0, half + 1 - input.shape[0]]);
        var spectrum = torch.stft(input, o.FftSize, o.HopLength, o.WindowLength ?? o.FftSize, _window, center: true,
            pad_mode: PaddingModes.Reflect, normalized: false, onesided: true, return_complex: true);
        var frames = o.Frames((int)samples.shape[0]);
        var power = spectrum.abs().pow(2).narrow(1, 0, frames);          // (freq, frames)
        var mel = power.t().matmul(_filterbank);                           // (frames, mels)
        var db = mel.clamp_min(1e-10).log10().mul(10);
        Tensor features = db;
        if (_dct is not null)
        {
            var floor = db.max().sub(80);                                  // torchaudio MFCC: top_db = 80
            features = torch.maximum(db, floor).matmul(_dct);
        }
        if (o.NormalizePerUtterance)
        {
            var mean = features.mean([0L], keepdim: true);
            var std = features.std(0, unbiased: false, keepdim: true);
            features = features.sub(mean).div(std.add(1e-5));
        }
        return features.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>The first <paramref name="frames"/> frames of an utterance's features into <paramref name="values"/> (frames × F, row-major), zero-padded.</summary>
    public void Fixed(float[] samples, int frames, float[] values)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var features = Utterance(samples).contiguous();
        var computed = HostCopy.ToArray<float>(features);
        var count = Math.Min(computed.Length, values.Length);
        Array.Copy(computed, values, count);
        Array.Clear(values, count, values.Length - count);
    }

    /// <summary>
    /// A padded batch: features (N, T, F + 1) whose last channel is 1 on the utterance's frames and 0 on padding (the
    /// encoder reads lengths from it), and the frame count of each utterance.
    /// </summary>
    public (Tensor Features, long[] Frames) Batch(IReadOnlyList<float[]> utterances)
    {
        using var scope = torch.NewDisposeScope();
        var parts = utterances.Select(Utterance).ToArray();
        var frames = parts.Select(p => p.shape[0]).ToArray();
        var longest = frames.Max();
        var width = parts[0].shape[1];
        var padded = torch.zeros(utterances.Count, longest, width + 1, device: _window.device);
        for (var i = 0; i < parts.Length; i++)
        {
            padded[i, ..(int)frames[i], ..(int)width] = parts[i];
            padded[i, ..(int)frames[i], (int)width] = 1;
        }
        return (padded.MoveToOuterDisposeScope(), frames);
    }

    public void Dispose()
    {
        _window.Dispose();
        _filterbank.Dispose();
        _dct?.Dispose();
    }
}

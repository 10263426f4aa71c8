using System;

namespace ML.DeepExtensions.Audio;

/// <summary>Which mel scale (and filter normalisation) a filterbank uses.</summary>
public enum MelScale
{
    /// <summary>HTK: mel = 2595·log10(1 + f/700), triangles of peak 1 (torchaudio's default, <c>mel_scale="htk", norm=None</c>).</summary>
    Htk,
    /// <summary>Slaney (Auditory Toolbox, librosa's default): linear below 1 kHz, logarithmic above, triangles of equal
    /// area (torchaudio's <c>mel_scale="slaney", norm="slaney"</c>).</summary>
    Slaney,
}

/// <summary>Which features a speech model sees.</summary>
public enum AudioFeatureKind
{
    /// <summary>Log-mel spectrogram in dB: 10·log10(max(mel power, 1e−10)), <see cref="AudioFeatureOptions.MelBins"/> values per frame.</summary>
    LogMel,
    /// <summary>MFCC: the orthonormal DCT-II of the log-mel spectrogram (dB, floored at 80 dB below the utterance's
    /// maximum, as torchaudio's MFCC), <see cref="AudioFeatureOptions.MfccCount"/> values per frame.</summary>
    Mfcc,
}

/// <summary>
/// Short-time features of speech, computed as TorchSharp tensor ops (<c>torch.stft</c> with a periodic Hann window,
/// centred frames with reflect padding, power spectrum, mel filterbank) with the same definitions as torchaudio 0.13's
/// <c>MelSpectrogram</c>, <c>AmplitudeToDB</c> and <c>MFCC</c>. Each utterance is computed alone, so its features do not
/// depend on the batch it is in; training and scoring call the same code.
/// </summary>
public sealed class AudioFeatureOptions
{
    /// <summary>Default values.</summary>
    public static class Defaults
    {
        /// <summary>16 kHz.</summary>
        public const int SampleRate = 16000;
        /// <summary>400 samples (25 ms at 16 kHz).</summary>
        public const int FftSize = 400;
        /// <summary>160 samples (10 ms at 16 kHz).</summary>
        public const int HopLength = 160;
        /// <summary>40 mel bins.</summary>
        public const int MelBins = 40;
        /// <summary>13 coefficients.</summary>
        public const int MfccCount = 13;
    }

    /// <summary>Sample rate of the audio in Hz, &gt; 0 (default 16,000); audio is resampled to it when loaded.</summary>
    public int SampleRate { get; set; } = Defaults.SampleRate;

    /// <summary>FFT size in samples, &gt; 1 (default 400); gives FftSize/2 + 1 frequency bins.</summary>
    public int FftSize { get; set; } = Defaults.FftSize;

    /// <summary>Hann window length in samples, in 1 … <see cref="FftSize"/>; null means <see cref="FftSize"/> (default null).</summary>
    public int? WindowLength { get; set; }

    /// <summary>Samples between frames, &gt; 0 (default 160). An utterance of n samples has 1 + n / HopLength frames.</summary>
    public int HopLength { get; set; } = Defaults.HopLength;

    /// <summary>Mel filters, &gt; 0 (default 40).</summary>
    public int MelBins { get; set; } = Defaults.MelBins;

    /// <summary>Lowest filter edge in Hz, ≥ 0 (default 0).</summary>
    public double MinFrequency { get; set; }

    /// <summary>Highest filter edge in Hz, above <see cref="MinFrequency"/> and at most SampleRate/2; null means SampleRate/2 (default null).</summary>
    public double? MaxFrequency { get; set; }

    /// <summary>Mel scale and filter normalisation (default <see cref="MelScale.Htk"/>).</summary>
    public MelScale Scale { get; set; } = MelScale.Htk;

    /// <summary>Log-mel or MFCC (default <see cref="AudioFeatureKind.LogMel"/>).</summary>
    public AudioFeatureKind Kind { get; set; } = AudioFeatureKind.LogMel;

    /// <summary>MFCC coefficients when <see cref="Kind"/> is MFCC, in 1 … <see cref="MelBins"/> (default 13).</summary>
    public int MfccCount { get; set; } = Defaults.MfccCount;

    /// <summary>Per-utterance normalisation: each feature's mean over the utterance's frames is subtracted and the result
    /// divided by its standard deviation (+1e−5) (default true). Speech models want it; parity with torchaudio needs it off.</summary>
    public bool NormalizePerUtterance { get; set; } = true;

    /// <summary>Values per frame: <see cref="MelBins"/> or <see cref="MfccCount"/>.</summary>
    public int FeaturesPerFrame => Kind == AudioFeatureKind.Mfcc ? MfccCount : MelBins;

    /// <summary>Checks every setting; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        Guard.Positive(SampleRate);
        if (FftSize < 2)
            throw new ArgumentOutOfRangeException(nameof(FftSize), $"FftSize must be at least 2. Received: FftSize={FftSize}");
        if (WindowLength is { } window && (window < 1 || window > FftSize))
            throw new ArgumentOutOfRangeException(nameof(WindowLength), $"WindowLength must be in 1 … FftSize ({FftSize}). Received: WindowLength={window}");
        Guard.Positive(HopLength);
        Guard.Positive(MelBins);
        Guard.NonNegative(MinFrequency);
        var max = MaxFrequency ?? SampleRate / 2;
        if (!(max > MinFrequency) || max > SampleRate / 2.0)
            throw new ArgumentOutOfRangeException(nameof(MaxFrequency),
                $"MaxFrequency must be above MinFrequency ({MinFrequency}) and at most SampleRate/2 ({SampleRate / 2.0}). Received: MaxFrequency={max}");
        Guard.Defined(Scale);
        Guard.Defined(Kind);
        if (Kind == AudioFeatureKind.Mfcc && (MfccCount < 1 || MfccCount > MelBins))
            throw new ArgumentOutOfRangeException(nameof(MfccCount), $"MfccCount must be in 1 … MelBins ({MelBins}). Received: MfccCount={MfccCount}");
    }

    /// <summary>A copy.</summary>
    public AudioFeatureOptions Clone() => (AudioFeatureOptions)MemberwiseClone();

    /// <summary>Frames of an utterance of <paramref name="samples"/> samples (centred framing).</summary>
    public int Frames(int samples) => 1 + samples / HopLength;
}

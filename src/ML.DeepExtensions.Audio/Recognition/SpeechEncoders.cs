using System;
using System.Linq;
using ML.DeepExtensions.Networks;
using TorchSharp;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Audio;

/// <summary>The acoustic encoder of the speech recogniser (<see cref="SpeechRecognizerOptions.Architecture"/>).</summary>
public enum SpeechEncoder
{
    /// <summary>2-D convolutions + bidirectional GRUs (<see cref="DeepSpeech2Parameters"/>); halves time.</summary>
    DeepSpeech2,

    /// <summary>1-D time-channel separable convolution blocks with residuals (<see cref="QuartzNetParameters"/>); halves time.</summary>
    QuartzNet,

    /// <summary>Convolution subsampling + Conformer blocks (<see cref="ConformerParameters"/>); quarters time.</summary>
    Conformer,
}

/// <summary>
/// What every speech encoder shares: SpecAugment (Park et al., 2019, without time warping) applied to training batches only,
/// drawn from the training run's seeded generator.
/// </summary>
public abstract class SpeechEncoderParameters
{
    /// <summary>SpecAugment frequency masks per training utterance, ≥ 0 (default 2).</summary>
    [ArchitectureParameter("SpecAugment: frequency masks per training utterance.")]
    public int FrequencyMasks { get; set; } = 2;

    /// <summary>Largest frequency mask in feature channels, ≥ 0 (default 6).</summary>
    [ArchitectureParameter("SpecAugment: largest frequency mask, in feature channels.")]
    public int FrequencyMaskWidth { get; set; } = 6;

    /// <summary>SpecAugment time masks per training utterance, ≥ 0 (default 2).</summary>
    [ArchitectureParameter("SpecAugment: time masks per training utterance.")]
    public int TimeMasks { get; set; } = 2;

    /// <summary>Largest time mask in frames (at most a fifth of the utterance), ≥ 0 (default 10).</summary>
    [ArchitectureParameter("SpecAugment: largest time mask in frames (at most a fifth of the utterance).")]
    public int TimeMaskWidth { get; set; } = 10;

    internal void ValidateSpecAugment(string owner)
    {
        Guard.NonNegative(FrequencyMasks, owner + ".FrequencyMasks");
        Guard.NonNegative(FrequencyMaskWidth, owner + ".FrequencyMaskWidth");
        Guard.NonNegative(TimeMasks, owner + ".TimeMasks");
        Guard.NonNegative(TimeMaskWidth, owner + ".TimeMaskWidth");
    }

    internal SpecAugmentSettings SpecAugment => new(FrequencyMasks, FrequencyMaskWidth, TimeMasks, TimeMaskWidth);
}

/// <summary>SpecAugment settings of an encoder layer.</summary>
internal readonly record struct SpecAugmentSettings(int FrequencyMasks, int FrequencyMaskWidth, int TimeMasks, int TimeMaskWidth);

/// <summary>A speech encoder layer: reads <c>(N, frames, features + mask)</c>, and knows how many output frames an utterance gets.</summary>
internal interface ISpeechEncoderLayer
{
    /// <summary>Output frames of an utterance of <paramref name="frames"/> feature frames (what CTC aligns against).</summary>
    long OutputFrames(long frames);
}

/// <summary>Helpers shared by the speech encoders: lengths from the mask channel, frame masks, SpecAugment, the output frames of a network.</summary>
internal static class SpeechEncoding
{
    /// <summary>The function from feature frames to output frames of the encoder of <paramref name="network"/>.</summary>
    public static Func<long, long> OutputFrames(Network network, int[] inputShape)
    {
        var encoder = network.Expand(inputShape).Select(e => e.Layer).OfType<ISpeechEncoderLayer>().FirstOrDefault()
            ?? throw new ArgumentException("The speech recogniser's network has no speech encoder layer (DeepSpeech2, QuartzNet or Conformer).", nameof(network));
        return encoder.OutputFrames;
    }

    /// <summary>Each utterance's frame count, read from the mask channel (the last) of <c>(N, frames, features + 1)</c>, on the CPU.</summary>
    public static Tensor Lengths(Tensor input, int features) => input.select(2, features).sum(1).to(ScalarType.Int64).cpu();

    /// <summary>⌈length / 2⌉ of each length (a stride-2 layer with centred padding), as a new CPU Int64 tensor.</summary>
    public static Tensor Halved(Tensor lengths) => torch.tensor(HostCopy.ToArray<long>(lengths).Select(l => (l + 1) / 2).ToArray());

    /// <summary>A (N, frames) float mask: 1 where the frame index is below the utterance's length.</summary>
    public static Tensor FrameMask(Tensor lengths, long frames, Device device, ScalarType dtype)
        => torch.arange(frames, device: device).unsqueeze(0).lt(lengths.to(device).unsqueeze(1)).to(dtype);

    /// <summary>Checks the encoder input: <c>(N, frames, features + 1)</c>.</summary>
    public static void CheckInput(Tensor input, int features, string encoder)
    {
        if (input.dim() != 3 || input.shape[2] != features + 1)
            throw new ArgumentException($"{encoder} expects (N, frames, {features + 1}) speech features with a mask channel; got ({string.Join(", ", input.shape)}).", nameof(input));
    }

    /// <summary>SpecAugment without time warping: zeroed frequency bands and time spans inside each utterance's real frames,
    /// drawn from <paramref name="generator"/>. <paramref name="x"/> is (N, frames, features).</summary>
    public static Tensor SpecAugment(Tensor x, long[] lengths, SpecAugmentSettings l, Generator generator)
    {
        var draws = l.FrequencyMasks + l.TimeMasks;
        if (draws == 0 || (l.FrequencyMaskWidth == 0 && l.TimeMaskWidth == 0))
            return x;
        var n = lengths.Length;
        var frames = (int)x.shape[1];
        var features = (int)x.shape[2];
        using var draw = torch.rand(new long[] { n, draws, 2 }, dtype: ScalarType.Float64, generator: generator);
        var random = HostCopy.ToArray<double>(draw);
        var keep = new float[n * frames * features];
        Array.Fill(keep, 1f);
        for (var i = 0; i < n; i++)
        {
            var length = (int)lengths[i];
            for (var d = 0; d < draws; d++)
            {
                var u = random[(i * draws + d) * 2];
                var v = random[(i * draws + d) * 2 + 1];
                if (d < l.FrequencyMasks)
                {
                    var width = (int)(u * (l.FrequencyMaskWidth + 1));
                    var start = (int)(v * Math.Max(1, features - width + 1));
                    for (var t = 0; t < length; t++)
                        Array.Fill(keep, 0f, (i * frames + t) * features + start, Math.Min(width, features - start));
                }
                else
                {
                    var width = (int)(u * (Math.Min(l.TimeMaskWidth, length / 5) + 1));
                    var start = (int)(v * Math.Max(1, length - width + 1));
                    Array.Fill(keep, 0f, (i * frames + start) * features, Math.Min(width, length - start) * features);
                }
            }
        }
        using var mask = torch.tensor(keep, new long[] { n, frames, features }).to(x.device);
        return x.mul(mask);
    }
}

/// <summary>
/// Batch normalisation over (N, C, T) whose training statistics count only real frames (mask 1), so padding never shifts
/// them; running statistics (momentum 0.1, unbiased variance) are used in inference, as <c>BatchNorm1d</c> does. Written here
/// rather than using TorchSharp's <c>BatchNorm1d</c>: its statistics would include padded frames.
/// </summary>
internal sealed class MaskedBatchNorm1d : nn.Module<Tensor, Tensor, Tensor>
{
    private const double Momentum = 0.1;
    private const double Epsilon = 1e-5;
    private readonly TorchSharp.Modules.Parameter weight;
    private readonly TorchSharp.Modules.Parameter bias;
    private readonly Tensor running_mean;
    private readonly Tensor running_var;

    public MaskedBatchNorm1d(long channels) : base("MaskedBatchNorm1d")
    {
        weight = nn.Parameter(torch.ones(channels));
        bias = nn.Parameter(torch.zeros(channels));
        running_mean = torch.zeros(channels).DetachFromDisposeScope();
        running_var = torch.ones(channels).DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>Normalises <paramref name="x"/> (N, C, T); <paramref name="mask"/> (N, 1, T) is 1 on real frames. Padded outputs are not zeroed.</summary>
    public override Tensor forward(Tensor x, Tensor mask)
    {
        // Every Scalar is held until the end (see SpeechScalars): TorchSharp's one-argument add/sub pass a temporary alpha
        // that the garbage collector can free during the native call.
        using var scope = torch.NewDisposeScope();
        using var one = 1.0.ToScalar();
        using var minusOne = (-1.0).ToScalar();
        using var two = 2.0.ToScalar();
        using var keep = (1 - Momentum).ToScalar();
        using var momentum = Momentum.ToScalar();
        using var epsilon = Epsilon.ToScalar();
        var channels = x.shape[1];
        Tensor mean, variance;
        if (training)
        {
            var count = mask.sum().clamp_min(two);
            mean = x.mul(mask).sum([0L, 2L]).div(count);
            var centred = x.add(mean.view(1, channels, 1), minusOne).mul(mask);
            variance = centred.mul(centred).sum([0L, 2L]).div(count);
            using (torch.no_grad())
            {
                running_mean.copy_(running_mean.mul(keep).add(mean.detach().mul(momentum), one));
                var unbiased = variance.detach().mul(count).div(count.add(one, minusOne));
                running_var.copy_(running_var.mul(keep).add(unbiased.mul(momentum), one));
            }
        }
        else
        {
            mean = running_mean;
            variance = running_var;
        }
        var normalised = x.add(mean.view(1, channels, 1), minusOne).div(variance.add(epsilon, one).sqrt().view(1, channels, 1));
        return normalised.mul(weight.view(1, channels, 1)).add(bias.view(1, channels, 1), one).MoveToOuterDisposeScope();
    }
}

using System;
using System.Runtime.CompilerServices;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using TorchSharp;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// A DeepSpeech2-style acoustic encoder (Amodei et al., 2015) at CPU size: SpecAugment on training batches, two 2-D
/// convolutions over (time, frequency) with hard-tanh (the first halves time and frequency, the second halves frequency),
/// a per-frame layer normalisation (DeepSpeech2 uses batch normalisation, whose statistics would include padding),
/// then a stack of bidirectional GRUs run on packed sequences, so padding never reaches an utterance's states.
/// </summary>
/// <remarks>
/// Input per example is <c>(frames, features + 1)</c> seen as a frame vector <c>(features + 1)</c> by shape inference:
/// the last channel is 1 on real frames and 0 on padding (<see cref="FeatureBank.Batch"/>), from which the module reads
/// each utterance's length. Output per example is <c>(⌈frames/2⌉, 2·HiddenSize)</c>; a Dense layer after it gives
/// per-frame character logits. Convolution outputs are re-masked after each layer so the last real frames see the
/// same zeros whatever the padding. Without the normalisation the clipped-ReLU outputs (up to 20)
/// saturate the GRU gates and training stalls on the CTC blank plateau (measured: word accuracy 11 % after 30 epochs).
/// </remarks>
public sealed class DeepSpeech2Layer : Layer, ISpeechEncoderLayer
{
    /// <summary>Frames of input per output frame.</summary>
    public const int TimeReduction = 2;

    /// <summary>Creates the layer.</summary>
    /// <param name="channels">Channels of both convolutions, &gt; 0.</param>
    /// <param name="hiddenSize">GRU state size per direction, &gt; 0.</param>
    /// <param name="recurrentLayers">Stacked bidirectional GRUs, &gt; 0.</param>
    /// <param name="dropout">Dropout between stacked GRUs, in [0, 1).</param>
    /// <param name="frequencyMasks">SpecAugment frequency masks per training utterance, ≥ 0.</param>
    /// <param name="frequencyMaskWidth">Largest frequency mask in feature channels, ≥ 0.</param>
    /// <param name="timeMasks">SpecAugment time masks per training utterance, ≥ 0.</param>
    /// <param name="timeMaskWidth">Largest time mask in frames (at most a fifth of the utterance), ≥ 0.</param>
    public DeepSpeech2Layer(int channels, int hiddenSize, int recurrentLayers, double dropout, int frequencyMasks, int frequencyMaskWidth, int timeMasks, int timeMaskWidth)
    {
        Channels = Guard.Positive(channels);
        HiddenSize = Guard.Positive(hiddenSize);
        RecurrentLayers = Guard.Positive(recurrentLayers);
        Dropout = Guard.InRange(dropout, 0, 1);
        FrequencyMasks = Guard.NonNegative(frequencyMasks);
        FrequencyMaskWidth = Guard.NonNegative(frequencyMaskWidth);
        TimeMasks = Guard.NonNegative(timeMasks);
        TimeMaskWidth = Guard.NonNegative(timeMaskWidth);
    }

    /// <summary>Channels of both convolutions.</summary>
    public int Channels { get; }
    /// <summary>GRU state size per direction.</summary>
    public int HiddenSize { get; }
    /// <summary>Stacked bidirectional GRUs.</summary>
    public int RecurrentLayers { get; }
    /// <summary>Dropout between stacked GRUs.</summary>
    public double Dropout { get; }
    /// <summary>SpecAugment frequency masks per training utterance.</summary>
    public int FrequencyMasks { get; }
    /// <summary>Largest frequency mask (feature channels).</summary>
    public int FrequencyMaskWidth { get; }
    /// <summary>SpecAugment time masks per training utterance.</summary>
    public int TimeMasks { get; }
    /// <summary>Largest time mask (frames).</summary>
    public int TimeMaskWidth { get; }

    /// <summary>Output frames for <paramref name="frames"/> input frames (kernel 11, stride 2, padding 5 in time).</summary>
    public static long OutputFrames(long frames) => (frames + 1) / 2;

    long ISpeechEncoderLayer.OutputFrames(long frames) => OutputFrames(frames);

    /// <inheritdoc />
    public override string ToString() => $"DeepSpeech2(conv {Channels}×2, BiGRU {HiddenSize} × {RecurrentLayers})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        if (input.Length != 1 || input[0] < 2)
            throw ShapeError(index, input, "(features + 1) per frame: a speech feature batch (N, frames, features + mask)");
        return [2 * HiddenSize];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new DeepSpeech2Module(this, input[0] - 1, Guard.NotNull(context).Generator);

    internal static int Halved(int size) => (size + 1) / 2;

    internal static long Weights(DeepSpeech2Layer l, int features)
    {
        long c = l.Channels, h = l.HiddenSize;
        var conv = (c * 11 * 11 + c) + (c * c * 11 * 11 + c);
        var width = c * Halved(Halved(features));
        conv += 2 * width;
        long gru = 0;
        for (var layer = 0; layer < l.RecurrentLayers; layer++)
        {
            var inputs = layer == 0 ? width : 2 * h;
            gru += 2 * (3 * h * inputs + 3 * h * h + 6 * h);
        }
        return NetworkWeightBound.Floats(checked(conv + gru));
    }
}

/// <summary>Parameters of the <c>DeepSpeech2</c> architecture (CPU-sized defaults); SpecAugment settings come from <see cref="SpeechEncoderParameters"/>.</summary>
public sealed class DeepSpeech2Parameters : SpeechEncoderParameters
{
    /// <summary>Channels of both convolutions.</summary>
    [ArchitectureParameter("Channels of both convolutions (11×11 kernels).")]
    public int Channels { get; set; } = 16;

    /// <summary>GRU state size per direction.</summary>
    [ArchitectureParameter("GRU state size per direction.")]
    public int HiddenSize { get; set; } = 96;

    /// <summary>Stacked bidirectional GRUs.</summary>
    [ArchitectureParameter("Stacked bidirectional GRU layers.")]
    public int RecurrentLayers { get; set; } = 2;

    /// <summary>Dropout between stacked GRUs.</summary>
    [ArchitectureParameter("Dropout between stacked GRU layers.")]
    public double Dropout { get; set; } = 0.1;
}

internal static class SpeechArchitectures
{
    public const string DeepSpeech2 = "DeepSpeech2";
    public const string QuartzNet = "QuartzNet";
    public const string Conformer = "Conformer";

#pragma warning disable CA2255 // Registering from a module initializer is the point: zips naming these load without user code.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        LayerRegistry.Register<DeepSpeech2Layer>("DeepSpeech2Encoder");
        NetworkWeightBound.Register<DeepSpeech2Layer>((layer, input) => DeepSpeech2Layer.Weights(layer, input[0] - 1));
        ArchitectureRegistry.Register<DeepSpeech2Parameters>(DeepSpeech2, (p, _) => Network.Create().Add(new DeepSpeech2Layer(
            p.Channels, p.HiddenSize, p.RecurrentLayers, p.Dropout, p.FrequencyMasks, p.FrequencyMaskWidth, p.TimeMasks, p.TimeMaskWidth)));
        LayerRegistry.Register<QuartzNetLayer>("QuartzNetEncoder");
        NetworkWeightBound.Register<QuartzNetLayer>((layer, input) => QuartzNetLayer.Weights(layer, input[0] - 1));
        ArchitectureRegistry.Register<QuartzNetParameters>(QuartzNet, (p, _) => Network.Create().Add(p.ToLayer()));
        LayerRegistry.Register<ConformerLayer>("ConformerEncoder");
        NetworkWeightBound.Register<ConformerLayer>((layer, input) => ConformerLayer.Weights(layer, input[0] - 1));
        ArchitectureRegistry.Register<ConformerParameters>(Conformer, (p, _) => Network.Create().Add(p.ToLayer()));
    }
}

internal sealed class DeepSpeech2Module : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Conv2d conv1;
    private readonly TorchSharp.Modules.Conv2d conv2;
    private readonly TorchSharp.Modules.LayerNorm norm;
    private readonly TorchSharp.Modules.GRU gru;
    private readonly DeepSpeech2Layer _layer;
    private readonly int _features;
    private readonly Generator _generator;

    public DeepSpeech2Module(DeepSpeech2Layer layer, int features, Generator generator) : base("DeepSpeech2")
    {
        _layer = layer;
        _features = features;
        _generator = generator;
        // Conv2d's initialisation leaves one temporary tensor on the thread's live count unless a dispose scope collects it
        // (measured: 1 per Conv2d; the estimator contract's leak check caught it). The parameters are not scope-owned.
        using (torch.NewDisposeScope())
        {
            conv1 = nn.Conv2d(1, layer.Channels, (11, 11), stride: (2, 2), padding: (5, 5));
            conv2 = nn.Conv2d(layer.Channels, layer.Channels, (11, 11), stride: (1, 2), padding: (5, 5));
        }
        var width = layer.Channels * DeepSpeech2Layer.Halved(DeepSpeech2Layer.Halved(features));
        norm = nn.LayerNorm(width);
        gru = nn.GRU(width, layer.HiddenSize, layer.RecurrentLayers, batchFirst: true, dropout: layer.RecurrentLayers > 1 ? layer.Dropout : 0, bidirectional: true);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 3 || input.shape[2] != _features + 1)
            throw new ArgumentException($"DeepSpeech2 expects (N, frames, {_features + 1}) speech features with a mask channel; got ({string.Join(", ", input.shape)}).", nameof(input));
        using var scope = torch.NewDisposeScope();
        var n = input.shape[0];
        var frames = input.shape[1];
        var lengths = input.select(2, _features).sum(1).to(ScalarType.Int64).cpu();
        var x = input.narrow(2, 0, _features);
        if (training)
            x = SpeechEncoding.SpecAugment(x, HostCopy.ToArray<long>(lengths), new(_layer.FrequencyMasks, _layer.FrequencyMaskWidth, _layer.TimeMasks, _layer.TimeMaskWidth), _generator);
        var outFrames = DeepSpeech2Layer.OutputFrames(frames);
        var outLengths = lengths.add(1).div(2, rounding_mode: RoundingMode.floor);
        var mask = torch.arange(outFrames, device: input.device).unsqueeze(0).lt(outLengths.to(input.device).unsqueeze(1))
            .to(input.dtype).view(n, 1, outFrames, 1);
        var h = nn.functional.hardtanh(conv1.forward(x.unsqueeze(1)), 0, 20).mul(mask);
        h = nn.functional.hardtanh(conv2.forward(h), 0, 20).mul(mask);
        h = norm.forward(h.permute(0, 2, 1, 3).reshape(n, outFrames, -1));
        var packed = nn.utils.rnn.pack_padded_sequence(h, outLengths, batch_first: true, enforce_sorted: false);
        var (output, state) = gru.call(packed);
        state.Dispose();
        var (padded, _) = nn.utils.rnn.pad_packed_sequence(output, batch_first: true, total_length: outFrames);
        output.Dispose();
        packed.Dispose();
        return padded.MoveToOuterDisposeScope();
    }
}

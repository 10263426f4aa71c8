using System;
using System.Collections.Generic;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using TorchSharp;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// A Conformer acoustic encoder (Gulati et al., 2020) at CPU size: SpecAugment on training batches, convolution subsampling
/// (two 3×3 Conv2d with stride 2 over time and frequency, ReLU) and a linear projection to <see cref="ModelSize"/>, sinusoidal
/// absolute positions added, then <see cref="Layers"/> blocks of: half-step feed-forward (macaron), multi-head self-attention
/// with a key padding mask, the convolution module (pointwise → GLU → depthwise → BatchNorm → Swish → pointwise), a second
/// half-step feed-forward and a final LayerNorm. Each sub-module is pre-LayerNorm with a residual connection.
/// </summary>
/// <remarks>
/// Input per example is <c>(frames, features + 1)</c> (the last channel is the mask). Output is
/// <c>(⌈⌈frames/2⌉/2⌉, ModelSize)</c>. Padded frames never reach a real frame: subsampling outputs are re-masked, attention
/// gives padded keys zero weight, and the depthwise convolution's input is zeroed on padded frames; with batch norms in
/// inference mode an utterance's outputs do not depend on its batch. The paper's relative positional encoding is replaced by
/// sinusoidal absolute positions.
/// </remarks>
public sealed class ConformerLayer : Layer, ISpeechEncoderLayer
{
    /// <summary>Creates the layer (see <see cref="ConformerParameters"/> for each value).</summary>
    public ConformerLayer(int layers, int modelSize, int heads, int feedForwardSize, int convolutionKernel, int subsamplingChannels, double dropout,
        int frequencyMasks, int frequencyMaskWidth, int timeMasks, int timeMaskWidth)
    {
        Layers = Guard.Positive(layers);
        ModelSize = Guard.Positive(modelSize);
        Heads = Guard.Positive(heads);
        if (modelSize % heads != 0)
            throw new ArgumentException($"ModelSize must be a multiple of Heads. Received: ModelSize={modelSize}, Heads={heads}", nameof(heads));
        FeedForwardSize = Guard.Positive(feedForwardSize);
        ConvolutionKernel = QuartzNetLayer.OddKernel(convolutionKernel, nameof(convolutionKernel));
        SubsamplingChannels = Guard.Positive(subsamplingChannels);
        Dropout = Guard.InRange(dropout, 0, 1);
        FrequencyMasks = Guard.NonNegative(frequencyMasks);
        FrequencyMaskWidth = Guard.NonNegative(frequencyMaskWidth);
        TimeMasks = Guard.NonNegative(timeMasks);
        TimeMaskWidth = Guard.NonNegative(timeMaskWidth);
    }

    /// <summary>Conformer blocks.</summary>
    public int Layers { get; }
    /// <summary>Model width (attention and block outputs).</summary>
    public int ModelSize { get; }
    /// <summary>Attention heads (divides <see cref="ModelSize"/>).</summary>
    public int Heads { get; }
    /// <summary>Inner width of each feed-forward module.</summary>
    public int FeedForwardSize { get; }
    /// <summary>Kernel of the depthwise convolution (odd).</summary>
    public int ConvolutionKernel { get; }
    /// <summary>Channels of the two subsampling convolutions.</summary>
    public int SubsamplingChannels { get; }
    /// <summary>Dropout on each sub-module's output and on attention weights.</summary>
    public double Dropout { get; }
    /// <summary>SpecAugment frequency masks per training utterance.</summary>
    public int FrequencyMasks { get; }
    /// <summary>Largest frequency mask (feature channels).</summary>
    public int FrequencyMaskWidth { get; }
    /// <summary>SpecAugment time masks per training utterance.</summary>
    public int TimeMasks { get; }
    /// <summary>Largest time mask (frames).</summary>
    public int TimeMaskWidth { get; }

    /// <summary>Output frames for <paramref name="frames"/> input frames (two 3×3 convolutions, stride 2, padding 1).</summary>
    public static long OutputFrames(long frames) => (Halved(frames) + 1) / 2;

    long ISpeechEncoderLayer.OutputFrames(long frames) => OutputFrames(frames);

    internal static long Halved(long size) => (size + 1) / 2;

    /// <inheritdoc />
    public override string ToString() => $"Conformer({Layers} blocks, d={ModelSize}, {Heads} heads, ff {FeedForwardSize}, kernel {ConvolutionKernel})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        if (input.Length != 1 || input[0] < 2)
            throw ShapeError(index, input, "(features + 1) per frame: a speech feature batch (N, frames, features + mask)");
        return [ModelSize];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new ConformerModule(this, input[0] - 1, Guard.NotNull(context).Generator);

    internal static long Weights(ConformerLayer l, int features)
    {
        long d = l.ModelSize, s = l.SubsamplingChannels;
        var total = s * 9 + s * s * 9 + s * Halved(Halved(features)) * d;
        total += l.Layers * (2 * 2 * d * l.FeedForwardSize + 4 * d * d + 2 * d * d + d * l.ConvolutionKernel + d * d);
        return NetworkWeightBound.Floats(total);
    }
}

/// <summary>Parameters of the <c>Conformer</c> architecture at CPU size (2 blocks, d = 96, 4 heads, feed-forward 192, kernel 15).</summary>
public sealed class ConformerParameters : SpeechEncoderParameters
{
    /// <summary>Conformer blocks, &gt; 0 (default 2).</summary>
    [ArchitectureParameter("Conformer blocks.")]
    public int Layers { get; set; } = 2;

    /// <summary>Model width, a multiple of <see cref="Heads"/> (default 96).</summary>
    [ArchitectureParameter("Model width (attention and block outputs); a multiple of Heads.")]
    public int ModelSize { get; set; } = 96;

    /// <summary>Attention heads, &gt; 0 (default 4).</summary>
    [ArchitectureParameter("Attention heads.")]
    public int Heads { get; set; } = 4;

    /// <summary>Inner width of each feed-forward module, &gt; 0 (default 192).</summary>
    [ArchitectureParameter("Inner width of each feed-forward module.")]
    public int FeedForwardSize { get; set; } = 192;

    /// <summary>Kernel of the convolution module's depthwise convolution, odd (default 15).</summary>
    [ArchitectureParameter("Kernel of the convolution module's depthwise convolution (odd).")]
    public int ConvolutionKernel { get; set; } = 15;

    /// <summary>Channels of the two subsampling convolutions, &gt; 0 (default 32).</summary>
    [ArchitectureParameter("Channels of the two stride-2 subsampling convolutions.")]
    public int SubsamplingChannels { get; set; } = 32;

    /// <summary>Dropout on sub-module outputs and attention weights, in [0, 1) (default 0.1).</summary>
    [ArchitectureParameter("Dropout on each sub-module's output and on attention weights.")]
    public double Dropout { get; set; } = 0.1;

    internal void Validate()
    {
        Guard.Positive(Layers, "Conformer.Layers");
        Guard.Positive(ModelSize, "Conformer.ModelSize");
        Guard.Positive(Heads, "Conformer.Heads");
        if (ModelSize % Heads != 0)
            throw new ArgumentException($"Conformer.ModelSize must be a multiple of Conformer.Heads. Received: ModelSize={ModelSize}, Heads={Heads}", "Conformer.ModelSize");
        Guard.Positive(FeedForwardSize, "Conformer.FeedForwardSize");
        QuartzNetLayer.OddKernel(ConvolutionKernel, "Conformer.ConvolutionKernel");
        Guard.Positive(SubsamplingChannels, "Conformer.SubsamplingChannels");
        Guard.InRange(Dropout, 0, 1, name: "Conformer.Dropout");
        ValidateSpecAugment("Conformer");
    }

    internal ConformerLayer ToLayer() => new(Layers, ModelSize, Heads, FeedForwardSize, ConvolutionKernel, SubsamplingChannels, Dropout,
        FrequencyMasks, FrequencyMaskWidth, TimeMasks, TimeMaskWidth);
}

/// <summary>LayerNorm → Linear → Swish → dropout → Linear → dropout.</summary>
internal sealed class ConformerFeedForward : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.LayerNorm norm;
    private readonly TorchSharp.Modules.Linear up;
    private readonly TorchSharp.Modules.Linear down;
    private readonly TorchSharp.Modules.Dropout dropout;

    public ConformerFeedForward(int size, int inner, double rate) : base("ConformerFeedForward")
    {
        norm = nn.LayerNorm(size);
        up = nn.Linear(size, inner);
        down = nn.Linear(inner, size);
        dropout = nn.Dropout(rate);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        return dropout.forward(down.forward(dropout.forward(nn.functional.silu(up.forward(norm.forward(x)))))).MoveToOuterDisposeScope();
    }
}

/// <summary>One Conformer block; forward takes (x, frame mask (N, T) of 1/0, key padding (N, T) true on padding).</summary>
internal sealed class ConformerBlock : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly ConformerFeedForward feedForward1;
    private readonly ConformerFeedForward feedForward2;
    private readonly TorchSharp.Modules.LayerNorm attentionNorm;
    private readonly TorchSharp.Modules.Linear query;
    private readonly TorchSharp.Modules.Linear key;
    private readonly TorchSharp.Modules.Linear value;
    private readonly TorchSharp.Modules.Linear attentionOut;
    private readonly TorchSharp.Modules.LayerNorm convolutionNorm;
    private readonly TorchSharp.Modules.Conv1d pointwiseIn;
    private readonly TorchSharp.Modules.Conv1d depthwise;
    private readonly MaskedBatchNorm1d convolutionBatchNorm;
    private readonly TorchSharp.Modules.Conv1d pointwiseOut;
    private readonly TorchSharp.Modules.LayerNorm finalNorm;
    private readonly TorchSharp.Modules.Dropout dropout;
    private readonly int _heads;
    private readonly int _size;

    public ConformerBlock(ConformerLayer l) : base("ConformerBlock")
    {
        _heads = l.Heads;
        _size = l.ModelSize;
        var d = l.ModelSize;
        feedForward1 = new ConformerFeedForward(d, l.FeedForwardSize, l.Dropout);
        feedForward2 = new ConformerFeedForward(d, l.FeedForwardSize, l.Dropout);
        attentionNorm = nn.LayerNorm(d);
        query = nn.Linear(d, d);
        key = nn.Linear(d, d);
        value = nn.Linear(d, d);
        attentionOut = nn.Linear(d, d);
        convolutionNorm = nn.LayerNorm(d);
        using (torch.NewDisposeScope())
        {
            pointwiseIn = nn.Conv1d(d, 2 * d, 1);
            depthwise = nn.Conv1d(d, d, l.ConvolutionKernel, padding: l.ConvolutionKernel / 2, groups: d);
            pointwiseOut = nn.Conv1d(d, d, 1);
        }
        convolutionBatchNorm = new MaskedBatchNorm1d(d);
        finalNorm = nn.LayerNorm(d);
        dropout = nn.Dropout(l.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor frameMask, Tensor keyPadding)
    {
        using var scope = torch.NewDisposeScope();
        // Scalars held to the end: TorchSharp's one-argument add passes a temporary alpha the collector can free mid-call.
        using var one = 1.0.ToScalar();
        using var half = 0.5.ToScalar();
        var n = x.shape[0];
        var t = x.shape[1];
        var headSize = _size / _heads;
        using var scale = (1.0 / Math.Sqrt(headSize)).ToScalar();
        using var negativeInfinity = float.NegativeInfinity.ToScalar();
        x = x.add(feedForward1.forward(x), half);

        // Multi-head self-attention; padded keys get zero weight, so real frames never see padding.
        var a = attentionNorm.forward(x);
        var q = query.forward(a).view(n, t, _heads, headSize).transpose(1, 2);
        var k = key.forward(a).view(n, t, _heads, headSize).transpose(1, 2);
        var v = value.forward(a).view(n, t, _heads, headSize).transpose(1, 2);
        var scores = q.matmul(k.transpose(2, 3)).mul(scale);
        scores = scores.masked_fill(keyPadding.view(n, 1, 1, t), negativeInfinity);
        var weights = dropout.forward(scores.softmax(-1));
        var attended = weights.matmul(v).transpose(1, 2).reshape(n, t, _size);
        x = x.add(dropout.forward(attentionOut.forward(attended)), one);

        // Convolution module, channels first; the depthwise convolution reads zeros on padded frames.
        var c = convolutionNorm.forward(x).transpose(1, 2);
        var channelMask = frameMask.unsqueeze(1);
        c = nn.functional.glu(pointwiseIn.forward(c), 1).mul(channelMask);
        c = nn.functional.silu(convolutionBatchNorm.call(depthwise.forward(c), channelMask));
        c = dropout.forward(pointwiseOut.forward(c)).transpose(1, 2);
        x = x.add(c, one);

        x = x.add(feedForward2.forward(x), half);
        return finalNorm.forward(x).MoveToOuterDisposeScope();
    }
}

internal sealed class ConformerModule : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Conv2d subsample1;
    private readonly TorchSharp.Modules.Conv2d subsample2;
    private readonly TorchSharp.Modules.Linear projection;
    private readonly TorchSharp.Modules.Dropout dropout;
    private readonly TorchSharp.Modules.ModuleList<ConformerBlock> blocks;
    private readonly ConformerLayer _layer;
    private readonly int _features;
    private readonly Generator _generator;

    public ConformerModule(ConformerLayer layer, int features, Generator generator) : base("Conformer")
    {
        _layer = layer;
        _features = features;
        _generator = generator;
        var s = layer.SubsamplingChannels;
        using (torch.NewDisposeScope())
        {
            subsample1 = nn.Conv2d(1, s, (3, 3), stride: (2, 2), padding: (1, 1));
            subsample2 = nn.Conv2d(s, s, (3, 3), stride: (2, 2), padding: (1, 1));
        }
        projection = nn.Linear(s * ConformerLayer.Halved(ConformerLayer.Halved(features)), layer.ModelSize);
        dropout = nn.Dropout(layer.Dropout);
        var list = new List<ConformerBlock>();
        for (var i = 0; i < layer.Layers; i++)
            list.Add(new ConformerBlock(layer));
        blocks = nn.ModuleList(list.ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        SpeechEncoding.CheckInput(input, _features, "Conformer");
        using var scope = torch.NewDisposeScope();
        using var one = 1.0.ToScalar(); // held to the end: see ConformerBlock
        var n = input.shape[0];
        var frames = input.shape[1];
        var lengths = SpeechEncoding.Lengths(input, _features);
        var x = input.narrow(2, 0, _features);
        if (training)
            x = SpeechEncoding.SpecAugment(x, HostCopy.ToArray<long>(lengths),
                new(_layer.FrequencyMasks, _layer.FrequencyMaskWidth, _layer.TimeMasks, _layer.TimeMaskWidth), _generator);
        var frames1 = ConformerLayer.Halved(frames);
        var lengths1 = SpeechEncoding.Halved(lengths);
        var frames2 = ConformerLayer.OutputFrames(frames);
        var lengths2 = SpeechEncoding.Halved(lengths1);
        var mask1 = SpeechEncoding.FrameMask(lengths1, frames1, input.device, input.dtype).view(n, 1, frames1, 1);
        var mask2 = SpeechEncoding.FrameMask(lengths2, frames2, input.device, input.dtype);
        var h = nn.functional.relu(subsample1.forward(x.unsqueeze(1))).mul(mask1);
        h = nn.functional.relu(subsample2.forward(h)).mul(mask2.view(n, 1, frames2, 1));
        h = projection.forward(h.permute(0, 2, 1, 3).reshape(n, frames2, -1));
        h = dropout.forward(h.add(Positions(frames2, _layer.ModelSize, h.device, h.dtype), one));
        var keyPadding = mask2.logical_not();
        foreach (var block in blocks)
            h = block.call(h, mask2, keyPadding);
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>Sinusoidal positions (Vaswani et al., 2017), (frames, size).</summary>
    private static Tensor Positions(long frames, int size, Device device, ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var position = torch.arange(frames, dtype: ScalarType.Float64).unsqueeze(1);
        var rates = torch.exp(torch.arange(0, size, 2, dtype: ScalarType.Float64).mul(-Math.Log(10000.0) / size));
        var angles = position.mul(rates);                                          // (frames, ⌈size/2⌉)
        var table = torch.stack([angles.sin(), angles.cos()], 2).reshape(frames, -1).narrow(1, 0, size);
        return table.to(dtype).to(device).MoveToOuterDisposeScope();
    }
}

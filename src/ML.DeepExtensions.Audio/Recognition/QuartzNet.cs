using System;
using System.Collections.Generic;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using TorchSharp;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// A QuartzNet-style acoustic encoder (Kriman et al., 2020) at CPU size: SpecAugment on training batches, a prologue
/// time-channel separable convolution with stride 2 in time, <see cref="Blocks"/> blocks of <see cref="Repeats"/> separable
/// sub-blocks (depthwise Conv1d over time → pointwise Conv1d → BatchNorm → ReLU; the block's last sub-block adds a residual
/// of the block input through a pointwise Conv1d + BatchNorm before its ReLU), and an epilogue (a separable convolution and a
/// pointwise convolution). Kernels grow by <see cref="KernelGrowth"/> per block.
/// </summary>
/// <remarks>
/// Input per example is <c>(frames, features + 1)</c> (the last channel is the mask: 1 on real frames, 0 on padding). Output is
/// <c>(⌈frames/2⌉, EpilogueChannels)</c>. Every convolution's input is zero on padded frames (re-masked after each sub-block),
/// so an utterance's valid frames see the same zeros past its end whatever the batch: with batch norms in inference mode its
/// outputs do not depend on the batch. Batch normalisation counts only real frames in training (a masked batch norm), so
/// padding does not shift its statistics either.
/// </remarks>
public sealed class QuartzNetLayer : Layer, ISpeechEncoderLayer
{
    /// <summary>Creates the layer (see <see cref="QuartzNetParameters"/> for each value).</summary>
    public QuartzNetLayer(int blocks, int repeats, int channels, int prologueKernel, int kernelSize, int kernelGrowth, int epilogueChannels,
        double dropout, int frequencyMasks, int frequencyMaskWidth, int timeMasks, int timeMaskWidth)
    {
        Blocks = Guard.Positive(blocks);
        Repeats = Guard.Positive(repeats);
        Channels = Guard.Positive(channels);
        PrologueKernel = OddKernel(prologueKernel, nameof(prologueKernel));
        KernelSize = OddKernel(kernelSize, nameof(kernelSize));
        KernelGrowth = Guard.NonNegative(kernelGrowth);
        EpilogueChannels = Guard.Positive(epilogueChannels);
        Dropout = Guard.InRange(dropout, 0, 1);
        FrequencyMasks = Guard.NonNegative(frequencyMasks);
        FrequencyMaskWidth = Guard.NonNegative(frequencyMaskWidth);
        TimeMasks = Guard.NonNegative(timeMasks);
        TimeMaskWidth = Guard.NonNegative(timeMaskWidth);
    }

    internal static int OddKernel(int kernel, string name)
    {
        Guard.Positive(kernel, name);
        if (kernel % 2 == 0)
            throw new ArgumentOutOfRangeException(name, kernel, $"must be odd (centred 'same' padding). Received: {name}={kernel}");
        return kernel;
    }

    /// <summary>Blocks (B).</summary>
    public int Blocks { get; }
    /// <summary>Separable sub-blocks per block (R).</summary>
    public int Repeats { get; }
    /// <summary>Channels of the prologue and of every block.</summary>
    public int Channels { get; }
    /// <summary>Kernel of the stride-2 prologue (odd).</summary>
    public int PrologueKernel { get; }
    /// <summary>Kernel of the first block (odd).</summary>
    public int KernelSize { get; }
    /// <summary>Half the kernel growth per block: block b uses <c>KernelSize + 2·b·KernelGrowth</c>.</summary>
    public int KernelGrowth { get; }
    /// <summary>Channels of the epilogue (the per-frame output size).</summary>
    public int EpilogueChannels { get; }
    /// <summary>Dropout after each sub-block.</summary>
    public double Dropout { get; }
    /// <summary>SpecAugment frequency masks per training utterance.</summary>
    public int FrequencyMasks { get; }
    /// <summary>Largest frequency mask (feature channels).</summary>
    public int FrequencyMaskWidth { get; }
    /// <summary>SpecAugment time masks per training utterance.</summary>
    public int TimeMasks { get; }
    /// <summary>Largest time mask (frames).</summary>
    public int TimeMaskWidth { get; }

    /// <summary>Kernel of block <paramref name="block"/> (0-based).</summary>
    public int BlockKernel(int block) => KernelSize + 2 * block * KernelGrowth;

    /// <summary>The epilogue's separable kernel: the last block's plus two growth steps.</summary>
    internal int EpilogueKernel => BlockKernel(Blocks + 1);

    /// <summary>Output frames for <paramref name="frames"/> input frames (prologue stride 2, centred padding).</summary>
    public static long OutputFrames(long frames) => (frames + 1) / 2;

    long ISpeechEncoderLayer.OutputFrames(long frames) => OutputFrames(frames);

    /// <inheritdoc />
    public override string ToString() => $"QuartzNet({Blocks}×{Repeats}, {Channels} channels, kernels {KernelSize}…{BlockKernel(Blocks - 1)})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        if (input.Length != 1 || input[0] < 2)
            throw ShapeError(index, input, "(features + 1) per frame: a speech feature batch (N, frames, features + mask)");
        return [EpilogueChannels];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new QuartzNetModule(this, input[0] - 1, Guard.NotNull(context).Generator);

    internal static long Weights(QuartzNetLayer l, int features)
    {
        long c = l.Channels, total = features * (long)l.PrologueKernel + features * c;
        for (var b = 0; b < l.Blocks; b++)
            total += l.Repeats * (c * l.BlockKernel(b) + c * c) + c * c;
        total += c * l.EpilogueKernel + c * l.EpilogueChannels + (long)l.EpilogueChannels * l.EpilogueChannels;
        return NetworkWeightBound.Floats(total);
    }
}

/// <summary>Parameters of the <c>QuartzNet</c> architecture: B×R blocks at CPU size (QuartzNet 5×2, 96 channels, kernels 11…19).</summary>
public sealed class QuartzNetParameters : SpeechEncoderParameters
{
    /// <summary>Blocks (B), &gt; 0 (default 5).</summary>
    [ArchitectureParameter("Blocks (B), each of Repeats separable sub-blocks with one residual.")]
    public int Blocks { get; set; } = 5;

    /// <summary>Separable sub-blocks per block (R), &gt; 0 (default 2).</summary>
    [ArchitectureParameter("Time-channel separable sub-blocks per block (R).")]
    public int Repeats { get; set; } = 2;

    /// <summary>Channels of the prologue and every block, &gt; 0 (default 96).</summary>
    [ArchitectureParameter("Channels of the prologue and of every block.")]
    public int Channels { get; set; } = 96;

    /// <summary>Kernel of the stride-2 prologue, odd (default 11).</summary>
    [ArchitectureParameter("Kernel of the stride-2 prologue convolution (odd).")]
    public int PrologueKernel { get; set; } = 11;

    /// <summary>Kernel of the first block, odd (default 11).</summary>
    [ArchitectureParameter("Kernel of the first block (odd).")]
    public int KernelSize { get; set; } = 11;

    /// <summary>Block b uses kernel <c>KernelSize + 2·b·KernelGrowth</c>, ≥ 0 (default 1: 11, 13, 15, 17, 19).</summary>
    [ArchitectureParameter("Block b uses kernel KernelSize + 2·b·KernelGrowth.")]
    public int KernelGrowth { get; set; } = 1;

    /// <summary>Channels of the epilogue, the per-frame output size, &gt; 0 (default 128).</summary>
    [ArchitectureParameter("Channels of the epilogue convolutions (per-frame output size).")]
    public int EpilogueChannels { get; set; } = 128;

    /// <summary>Dropout after each sub-block, in [0, 1) (default 0.1).</summary>
    [ArchitectureParameter("Dropout after each sub-block.")]
    public double Dropout { get; set; } = 0.1;

    internal void Validate()
    {
        Guard.Positive(Blocks, "QuartzNet.Blocks");
        Guard.Positive(Repeats, "QuartzNet.Repeats");
        Guard.Positive(Channels, "QuartzNet.Channels");
        QuartzNetLayer.OddKernel(PrologueKernel, "QuartzNet.PrologueKernel");
        QuartzNetLayer.OddKernel(KernelSize, "QuartzNet.KernelSize");
        Guard.NonNegative(KernelGrowth, "QuartzNet.KernelGrowth");
        Guard.Positive(EpilogueChannels, "QuartzNet.EpilogueChannels");
        Guard.InRange(Dropout, 0, 1, name: "QuartzNet.Dropout");
        ValidateSpecAugment("QuartzNet");
    }

    internal QuartzNetLayer ToLayer() => new(Blocks, Repeats, Channels, PrologueKernel, KernelSize, KernelGrowth, EpilogueChannels, Dropout,
        FrequencyMasks, FrequencyMaskWidth, TimeMasks, TimeMaskWidth);
}

/// <summary>A time-channel separable convolution: depthwise Conv1d over time (no bias) then pointwise Conv1d, then a masked BatchNorm.</summary>
internal sealed class SeparableConv1d : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Conv1d depthwise;
    private readonly TorchSharp.Modules.Conv1d pointwise;
    private readonly MaskedBatchNorm1d norm;

    public SeparableConv1d(int inputs, int outputs, int kernel, int stride) : base("SeparableConv1d")
    {
        using (torch.NewDisposeScope())
        {
            depthwise = nn.Conv1d(inputs, inputs, kernel, stride: stride, padding: kernel / 2, groups: inputs, bias: false);
            pointwise = nn.Conv1d(inputs, outputs, 1, bias: false);
        }
        norm = new MaskedBatchNorm1d(outputs);
        RegisterComponents();
    }

    /// <summary>(N, C, T) with zeros on padded frames → (N, outputs, T'), not masked; <paramref name="mask"/> is the output frames' (N, 1, T').</summary>
    public override Tensor forward(Tensor input, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        return norm.forward(pointwise.forward(depthwise.forward(input)), mask).MoveToOuterDisposeScope();
    }
}

internal sealed class QuartzNetModule : nn.Module<Tensor, Tensor>
{
    private readonly SeparableConv1d prologue;
    private readonly TorchSharp.Modules.ModuleList<SeparableConv1d> subblocks;
    private readonly TorchSharp.Modules.ModuleList<TorchSharp.Modules.Conv1d> residuals;
    private readonly TorchSharp.Modules.ModuleList<MaskedBatchNorm1d> residualNorms;
    private readonly SeparableConv1d epilogue;
    private readonly TorchSharp.Modules.Conv1d epilogueOut;
    private readonly MaskedBatchNorm1d epilogueNorm;
    private readonly TorchSharp.Modules.Dropout dropout;
    private readonly QuartzNetLayer _layer;
    private readonly int _features;
    private readonly Generator _generator;

    public QuartzNetModule(QuartzNetLayer layer, int features, Generator generator) : base("QuartzNet")
    {
        _layer = layer;
        _features = features;
        _generator = generator;
        var c = layer.Channels;
        prologue = new SeparableConv1d(features, c, layer.PrologueKernel, stride: 2);
        var blocks = new List<SeparableConv1d>();
        var shortcuts = new List<TorchSharp.Modules.Conv1d>();
        var shortcutNorms = new List<MaskedBatchNorm1d>();
        for (var b = 0; b < layer.Blocks; b++)
        {
            for (var r = 0; r < layer.Repeats; r++)
                blocks.Add(new SeparableConv1d(c, c, layer.BlockKernel(b), stride: 1));
            using (torch.NewDisposeScope())
                shortcuts.Add(nn.Conv1d(c, c, 1, bias: false));
            shortcutNorms.Add(new MaskedBatchNorm1d(c));
        }
        subblocks = nn.ModuleList(blocks.ToArray());
        residuals = nn.ModuleList(shortcuts.ToArray());
        residualNorms = nn.ModuleList(shortcutNorms.ToArray());
        epilogue = new SeparableConv1d(c, layer.EpilogueChannels, layer.EpilogueKernel, stride: 1);
        using (torch.NewDisposeScope())
            epilogueOut = nn.Conv1d(layer.EpilogueChannels, layer.EpilogueChannels, 1, bias: false);
        epilogueNorm = new MaskedBatchNorm1d(layer.EpilogueChannels);
        dropout = nn.Dropout(layer.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        SpeechEncoding.CheckInput(input, _features, "QuartzNet");
        using var scope = torch.NewDisposeScope();
        using var one = 1.0.ToScalar(); // held to the end: see MaskedBatchNorm1d
        var frames = input.shape[1];
        var lengths = SpeechEncoding.Lengths(input, _features);
        var x = input.narrow(2, 0, _features);
        if (training)
            x = SpeechEncoding.SpecAugment(x, HostCopy.ToArray<long>(lengths),
                new(_layer.FrequencyMasks, _layer.FrequencyMaskWidth, _layer.TimeMasks, _layer.TimeMaskWidth), _generator);
        var outFrames = QuartzNetLayer.OutputFrames(frames);
        var outLengths = SpeechEncoding.Halved(lengths);
        var mask = SpeechEncoding.FrameMask(outLengths, outFrames, input.device, input.dtype).unsqueeze(1); // (N, 1, T')
        // (N, T, F) → (N, F, T); padded frames are zero in the input already.
        var h = nn.functional.relu(prologue.call(x.transpose(1, 2), mask)).mul(mask);
        h = dropout.forward(h);
        for (var b = 0; b < _layer.Blocks; b++)
        {
            var blockInput = h;
            for (var r = 0; r < _layer.Repeats; r++)
            {
                h = subblocks[b * _layer.Repeats + r].call(h, mask);
                if (r == _layer.Repeats - 1)
                    h = h.add(residualNorms[b].call(residuals[b].forward(blockInput), mask), one);
                h = dropout.forward(nn.functional.relu(h)).mul(mask);
            }
        }
        h = dropout.forward(nn.functional.relu(epilogue.call(h, mask))).mul(mask);
        h = nn.functional.relu(epilogueNorm.call(epilogueOut.forward(h), mask)).mul(mask);
        return h.transpose(1, 2).contiguous().MoveToOuterDisposeScope();
    }
}

using System;
using System.Collections.Generic;
using ML.DeepExtensions.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>
/// The feature pyramid and decoupled heads of <c>AnchorFreeDetector</c> with <see cref="AnchorFreeDetectorParameters.PyramidLevels"/>
/// 3, on the backbone's stride-8 map <c>(channels, side, side)</c>: two more backbone stages (a 3×3 stride-2 convolution with
/// batch norm and ReLU and one ResNet basic block each) give stride-16 and stride-32 maps with 2× and 4× the channels; 1×1
/// lateral convolutions bring the three to <see cref="Channels"/>; a top-down path (FPN: nearest 2× upsampling, add, 3×3
/// convolution) then a bottom-up path (PAN: 3×3 stride-2 convolution, add, 3×3 convolution; convolutions with batch norm and
/// SiLU) fuse them; each level has its own YOLOX-style decoupled head (as <see cref="DetectionHeadLayer"/>). Output: one row
/// per location of the stride-8, then the stride-16, then the stride-32 map, row-major, <c>(rows, 4 + classes)</c>: the
/// log-distances to the box's sides in units of the row's stride, then the class logits.
/// </summary>
public sealed class PyramidDetectionHeadLayer : Layer
{
    /// <summary>Strides of the pyramid's levels, in input pixels.</summary>
    internal static readonly int[] Strides = [8, 16, 32];

    /// <summary>Creates the layer.</summary>
    /// <param name="classes">Object classes, &gt; 0.</param>
    /// <param name="channels">Channels of the pyramid's levels and of each head branch's hidden convolutions, &gt; 0.</param>
    public PyramidDetectionHeadLayer(int classes, int channels)
    {
        Classes = Guard.Positive(classes);
        Channels = Guard.Positive(channels);
    }

    /// <summary>Object classes (logits per location).</summary>
    public int Classes { get; }

    /// <summary>Channels of the pyramid's levels and of each head branch's hidden convolutions.</summary>
    public int Channels { get; }

    /// <inheritdoc />
    public override string ToString() => $"PyramidDetectionHead({Classes} classes, {Channels} channels, strides 8/16/32)";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length == 3 && input[1] == input[2] && input[1] % 4 == 0
            ? [Rows(input[1] * Strides[0]), 4 + Classes]
            : throw ShapeError(index, input, "a square stride-8 feature map (channels, side, side) whose side is a multiple of 4");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new PyramidDetectionHeadModule(input[0], Channels, Classes);

    /// <summary>Output rows for an input of <paramref name="size"/>² pixels: the locations of the three levels.</summary>
    internal static int Rows(int size)
    {
        var rows = 0;
        foreach (var stride in Strides)
            rows += size / stride * (size / stride);
        return rows;
    }
}

/// <summary>The TorchSharp module of <see cref="PyramidDetectionHeadLayer"/>.</summary>
internal sealed class PyramidDetectionHeadModule : nn.Module<Tensor, Tensor>
{
    private readonly Sequential stage4;
    private readonly Sequential block4;
    private readonly Sequential stage5;
    private readonly Sequential block5;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> laterals;
    private readonly Sequential topDown4;
    private readonly Sequential topDown3;
    private readonly Sequential down3;
    private readonly Sequential bottomUp4;
    private readonly Sequential down4;
    private readonly Sequential bottomUp5;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> heads;

    public PyramidDetectionHeadModule(int inputChannels, int channels, int classCount) : base("PyramidDetectionHead")
    {
        // As DetectionHeadModule: the scope frees the temporaries TorchSharp's convolutions allocate their weights through.
        using var scope = torch.NewDisposeScope();
        var (c4, c5) = (2 * inputChannels, 4 * inputChannels);
        stage4 = ConvBn(inputChannels, c4, 3, 2, relu: true);
        block4 = nn.Sequential(ConvBn(c4, c4, 3, 1, relu: true), ConvBn(c4, c4, 3, 1, relu: false));
        stage5 = ConvBn(c4, c5, 3, 2, relu: true);
        block5 = nn.Sequential(ConvBn(c5, c5, 3, 1, relu: true), ConvBn(c5, c5, 3, 1, relu: false));
        laterals = nn.ModuleList<nn.Module<Tensor, Tensor>>(
            nn.Conv2d(inputChannels, channels, 1), nn.Conv2d(c4, channels, 1), nn.Conv2d(c5, channels, 1));
        topDown4 = ConvBnSilu(channels, 1);
        topDown3 = ConvBnSilu(channels, 1);
        down3 = ConvBnSilu(channels, 2);
        bottomUp4 = ConvBnSilu(channels, 1);
        down4 = ConvBnSilu(channels, 2);
        bottomUp5 = ConvBnSilu(channels, 1);
        heads = nn.ModuleList<nn.Module<Tensor, Tensor>>(
            new DetectionHeadModule(channels, channels, classCount), new DetectionHeadModule(channels, channels, classCount), new DetectionHeadModule(channels, channels, classCount));
        RegisterComponents();
    }

    private static Sequential ConvBn(int input, int output, int kernel, int stride, bool relu)
    {
        var layers = new List<nn.Module<Tensor, Tensor>> { nn.Conv2d(input, output, kernel, stride: stride, padding: kernel / 2, bias: false), StableBatchNorm.Create(output, 2) };
        if (relu)
            layers.Add(nn.ReLU());
        return nn.Sequential(layers);
    }

    private static Sequential ConvBnSilu(int channels, int stride)
        => nn.Sequential(nn.Conv2d(channels, channels, 3, stride: stride, padding: 1, bias: false), StableBatchNorm.Create(channels, 2), nn.SiLU());

    private static Tensor Up(Tensor x) => x.repeat_interleave(2, 2).repeat_interleave(2, 3);

    public override Tensor forward(Tensor c3)
    {
        using var scope = torch.NewDisposeScope();
        var s4 = stage4.forward(c3);
        var c4 = (s4 + block4.forward(s4)).relu();
        var s5 = stage5.forward(c4);
        var c5 = (s5 + block5.forward(s5)).relu();
        var p5 = laterals[2].forward(c5);
        var p4 = topDown4.forward(laterals[1].forward(c4) + Up(p5));
        var p3 = topDown3.forward(laterals[0].forward(c3) + Up(p4));
        var n4 = bottomUp4.forward(p4 + down3.forward(p3));
        var n5 = bottomUp5.forward(p5 + down4.forward(n4));
        var output = torch.cat([heads[0].forward(p3), heads[1].forward(n4), heads[2].forward(n5)], 1);
        return output.MoveToOuterDisposeScope();
    }
}

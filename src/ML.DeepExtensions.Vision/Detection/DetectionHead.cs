using System;
using ML.DeepExtensions.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>
/// The decoupled head of an anchor-free single-stage detector (FCOS / YOLOX style) on one feature map
/// <c>(channels, height, width)</c>: a classification branch and a box branch, each two 3×3 convolutions with batch norm
/// and SiLU, then a 1×1 convolution to <see cref="Classes"/> class logits or to 4 box distances. Output: one row per feature
/// map location, <c>(height·width, 4 + classes)</c>: the log-distances (left, top, right, bottom) from the location to its box
/// in units of the map's stride, then the class logits. The class bias starts at the focal-loss prior −log((1 − 0.01) / 0.01).
/// </summary>
public sealed class DetectionHeadLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="classes">Object classes, &gt; 0.</param>
    /// <param name="channels">Channels of each branch's hidden convolutions, &gt; 0.</param>
    public DetectionHeadLayer(int classes, int channels)
    {
        Classes = Guard.Positive(classes);
        Channels = Guard.Positive(channels);
    }

    /// <summary>Object classes (logits per location).</summary>
    public int Classes { get; }

    /// <summary>Channels of each branch's hidden convolutions.</summary>
    public int Channels { get; }

    /// <inheritdoc />
    public override string ToString() => $"DetectionHead({Classes} classes, {Channels} channels)";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length == 3 ? [input[1] * input[2], 4 + Classes] : throw ShapeError(index, input, "a feature map (channels, height, width)");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new DetectionHeadModule(input[0], Channels, Classes);
}

/// <summary>The TorchSharp module of <see cref="DetectionHeadLayer"/>.</summary>
internal sealed class DetectionHeadModule : nn.Module<Tensor, Tensor>
{
    /// <summary>Prior probability of an object at a location for the initial class bias (RetinaNet's π).</summary>
    private const double Prior = 0.01;

    private readonly Sequential classes;
    private readonly Sequential boxes;

    public DetectionHeadModule(int inputChannels, int channels, int classCount) : base("DetectionHead")
    {
        // TorchSharp's convolutions allocate their weights through a temporary they never dispose, and in-place
        // initialisation hands back new tensor wrappers; parameters detach themselves from the scope, so it frees only
        // those temporaries (as the core's ConvolutionLayer does).
        using var scope = torch.NewDisposeScope();
        classes = Branch(inputChannels, channels, classCount);
        boxes = Branch(inputChannels, channels, 4);
        RegisterComponents();
        using var noGrad = torch.no_grad();
        var classOutput = (Conv2d)classes[classes.Count - 1];
        classOutput.bias!.fill_(-Math.Log((1 - Prior) / Prior));
        var boxOutput = (Conv2d)boxes[boxes.Count - 1];
        boxOutput.bias!.zero_();
    }

    private static Sequential Branch(int input, int channels, int outputs) => nn.Sequential(
        nn.Conv2d(input, channels, 3, padding: 1, bias: false), StableBatchNorm.Create(channels, 2), nn.SiLU(),
        nn.Conv2d(channels, channels, 3, padding: 1, bias: false), StableBatchNorm.Create(channels, 2), nn.SiLU(),
        nn.Conv2d(channels, outputs, 1));

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var output = torch.cat([boxes.forward(input), classes.forward(input)], 1);
        return output.flatten(2).permute(0, 2, 1).contiguous().MoveToOuterDisposeScope();
    }
}

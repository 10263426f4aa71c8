using System;
using System.Text.Json.Serialization;
using ML.DeepExtensions.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// A residual block: <c>activation(body(x) + shortcut(x))</c>, where the shortcut is the identity when not given.
/// The body and the shortcut are whole <see cref="Network"/>s, so ResNet's BasicBlock/Bottleneck (with a 1×1
/// convolution + batch-norm downsample) and MobileNet's inverted residuals are written in the same DSL.
/// The built module registers the body's parameters first, then the shortcut's, the order of torchvision's
/// state dicts (<c>conv1, bn1, conv2, bn2, …, downsample.0, downsample.1</c>).
/// </summary>
public sealed class ResidualLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="body">The residual branch; its output shape must equal the shortcut's.</param>
    /// <param name="shortcut">The skip branch, e.g. a strided 1×1 convolution + batch norm when the body changes the
    /// shape; <c>null</c> (default) for the identity, which needs the body to keep the input shape.</param>
    /// <param name="activation">Applied after the sum (ResNet: ReLU); <c>null</c> (default) for none (MobileNetV2, EfficientNet).</param>
    /// <param name="dropPath">Stochastic depth: during training, the probability in [0, 1) of dropping the body for a
    /// whole example (survivors are scaled by 1/(1−p)), as torchvision's <c>StochasticDepth(p, "row")</c>; identity
    /// when scoring (default 0).</param>
    public ResidualLayer(Network body, Network? shortcut = null, ActivationKind? activation = null, double dropPath = 0)
    {
        Body = Guard.NotNull(body);
        Shortcut = shortcut;
        Activation = activation;
        DropPath = Guard.InRange(dropPath, 0, 1);
    }

    /// <summary>The residual branch.</summary>
    public Network Body { get; }

    /// <summary>The skip branch; <c>null</c> for the identity.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Network? Shortcut { get; }

    /// <summary>Activation after the sum; <c>null</c> for none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ActivationKind? Activation { get; }

    /// <summary>Stochastic-depth drop probability during training.</summary>
    public double DropPath { get; }

    /// <inheritdoc />
    public override string ToString()
        => $"Residual({Body.Layers.Count} layers{(Shortcut is null ? "" : $", shortcut {Shortcut.Layers.Count} layers")}"
           + $"{(Activation is null ? "" : $", {Activation}")}{(DropPath == 0 ? "" : $", drop path {DropPath}")})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        var body = BranchShape(Body, "body", input, index);
        var shortcut = Shortcut is null ? input : BranchShape(Shortcut, "shortcut", input, index);
        if (!Shape.Equal(body, shortcut))
            throw ShapeError(index, input,
                $"an input for which body and shortcut agree; the body outputs {Shape.Format(body)} but the " +
                $"{(Shortcut is null ? "identity shortcut" : "shortcut")} outputs {Shape.Format(shortcut)}");
        return body;
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
    {
        var body = Body.Build(input, context);
        var shortcut = Shortcut?.Build(input, context);
        var activation = Activation is { } kind ? ActivationLayer.CreateModule(kind) : null;
        return new ResidualModule(body, shortcut, activation, DropPath, context.Generator);
    }

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        var body = context.Lower(Body, context.Input, context.InputShape, "body");
        var skip = Shortcut is null ? context.Input : context.Lower(Shortcut, context.Input, context.InputShape, "shortcut");
        var sum = context.Node("Add", [body, skip]);
        return Activation is { } kind ? context.Activation(kind, sum) : sum;
    }

    private int[] BranchShape(Network branch, string name, int[] input, int index)
    {
        try
        {
            return branch.OutputShape(input);
        }
        catch (NetworkShapeException ex)
        {
            throw ShapeError(index, input, $"an input its {name} accepts: {name} layer {ex.Message}");
        }
    }
}

/// <summary>
/// Squeeze-and-excitation over <c>(channels, height, width)</c>, as torchvision's <c>ops.SqueezeExcitation</c>:
/// the per-channel mean goes through a 1×1 convolution to <see cref="SqueezeChannels"/> (with bias), the activation,
/// a 1×1 convolution back to the channel count (with bias) and a sigmoid; the input is scaled by the result.
/// Parameters in order: <c>fc1.weight, fc1.bias, fc2.weight, fc2.bias</c>. Output shape = input shape.
/// </summary>
public sealed class SqueezeExcitationLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="squeezeChannels">Width of the bottleneck, &gt; 0 (EfficientNet: input channels of the block / 4).</param>
    /// <param name="activation">Activation between the two convolutions (default ReLU; EfficientNet uses SiLU).</param>
    public SqueezeExcitationLayer(int squeezeChannels, ActivationKind activation = ActivationKind.ReLU)
    {
        SqueezeChannels = Guard.Positive(squeezeChannels);
        Activation = activation;
    }

    /// <summary>Width of the bottleneck.</summary>
    public int SqueezeChannels { get; }

    /// <summary>Activation between the two convolutions.</summary>
    public ActivationKind Activation { get; }

    /// <inheritdoc />
    public override string ToString() => $"SqueezeExcitation({SqueezeChannels}, {Activation})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length == 3 ? Shape.Copy(input) : throw ShapeError(index, input, "(channels, height, width)");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new SqueezeExcitationModule(input[0], SqueezeChannels, ActivationLayer.CreateModule(Activation));

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        var pooled = context.ReduceMean(context.Input, [2, 3], keepDims: true);
        var squeezed = context.Node("Conv", [pooled, context.Initializer("fc1.weight"), context.Initializer("fc1.bias")], OnnxAttribute.Ints("kernel_shape", 1, 1));
        var activated = context.Activation(Activation, squeezed);
        var excited = context.Node("Conv", [activated, context.Initializer("fc2.weight"), context.Initializer("fc2.bias")], OnnxAttribute.Ints("kernel_shape", 1, 1));
        return context.Node("Mul", [context.Input, context.Node("Sigmoid", [excited])]);
    }
}

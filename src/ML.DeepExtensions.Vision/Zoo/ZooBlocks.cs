using System;
using ML.DeepExtensions.Networks;

namespace ML.DeepExtensions.Vision.Zoo;

/// <summary>Pieces shared by the architecture builders.</summary>
internal static class ZooBlocks
{
    /// <summary>Channels scaled by a width multiplier, at least 1; exact at width 1.</summary>
    public static int Scale(int channels, double width) => Math.Max(1, (int)Math.Round(channels * width, MidpointRounding.AwayFromZero));

    /// <summary>torchvision's <c>_make_divisible</c>: nearest multiple of <paramref name="divisor"/>, never more than 10% below <paramref name="value"/>.</summary>
    public static int MakeDivisible(double value, int divisor = 8)
    {
        var rounded = Math.Max(divisor, (int)(value + divisor / 2.0) / divisor * divisor);
        return rounded < 0.9 * value ? rounded + divisor : rounded;
    }

    /// <summary>torchvision's <c>Conv2dNormActivation</c>: convolution without bias ("same" padding), batch norm, optional activation.</summary>
    public static Network ConvBnAct(this Network network, int filters, int kernelSize, int stride = 1, int groups = 1, ActivationKind? activation = ActivationKind.ReLU)
    {
        network = network.Conv2d(filters, kernelSize, stride, (kernelSize - 1) / 2, groups, useBias: false).BatchNorm();
        return activation is { } kind ? network.Add(new ActivationLayer(kind)) : network;
    }

    /// <summary>Appends the layers of <paramref name="block"/> inline.</summary>
    public static Network Append(this Network network, Network block)
    {
        foreach (var layer in block.Layers)
            network = network.Add(layer);
        return network;
    }

    /// <summary>Checks the common parameters and the image against the contract; returns the width multiplier.</summary>
    public static double CheckInput<TParameters>(string name, TParameters parameters, int[] input, int minimumSize)
        where TParameters : class, IImageArchitectureParameters, new()
    {
        var width = parameters.Width;
        if (!(width > 0) || !double.IsFinite(width))
            throw new ArgumentException($"Architecture parameter 'width' must be a positive number. Received: width={width}", "width");
        var channels = parameters.Channels;
        if (channels <= 0)
            throw new ArgumentException($"Architecture parameter 'channels' must be positive. Received: channels={channels}", "channels");
        if (input.Length != 3 || input[0] != channels || input[1] < minimumSize || input[2] < minimumSize)
        {
            var layer = new ArchitectureLayer(name, ArchitectureParameters.From(parameters).Values);
            var expected = $"images (channels, height, width) with {channels} channel{(channels == 1 ? "" : "s")} and height and width of at least {minimumSize} pixels"
                + (input.Length == 3 && input[0] != channels ? $" (set the architecture parameter channels={input[0]} to accept {input[0]}-channel images)" : "")
                + (input.Length != 3 ? "; add Reshape(channels, height, width) before it" : "");
            throw new NetworkShapeException(0, layer, input, expected);
        }
        return width;
    }

    public static int Depth(int layers, double depth) => (int)Math.Ceiling(layers * depth);
}

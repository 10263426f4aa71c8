using System;
using System.Linq;
using System.Runtime.CompilerServices;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Vision.Zoo;
using static ML.DeepExtensions.Vision.Zoo.ZooBlocks;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>Parameters of <c>AnchorFreeDetector</c> (<see cref="DetectionArchitectures"/>); the initializers are the defaults.</summary>
public sealed class AnchorFreeDetectorParameters : IImageArchitectureParameters
{
    /// <summary>Channel multiplier of the backbone and head, &gt; 0.</summary>
    [ArchitectureParameter("Channel multiplier of the backbone and head, > 0.")]
    public double Width { get; set; } = 1;

    /// <summary>Residual blocks after each of the stride-4 and stride-8 convolutions, ≥ 0.</summary>
    [ArchitectureParameter("Residual blocks after each of the stride-4 and stride-8 convolutions, >= 0.")]
    public int Depth { get; set; } = 1;

    /// <summary>Object classes; the trainer sets it from the label column's key count.</summary>
    [ArchitectureParameter("Object classes; the trainer sets it from the label column's key count.")]
    public int Classes { get; set; } = 1;

    /// <summary>Image channels the network checks its input for.</summary>
    [ArchitectureParameter("Image channels the network checks its input for.")]
    public int Channels { get; set; } = 3;
}

/// <summary>
/// Detection architectures, registered in <see cref="ArchitectureRegistry"/> when this assembly is loaded, each with its
/// input contract. Today one: <c>AnchorFreeDetector</c>, a CPU-sized single-stage anchor-free detector (FCOS / YOLOX
/// style): a convolutional backbone down to stride 8 (3×3 stride-2 convolutions with batch norm and ReLU, and ResNet basic
/// blocks) and a decoupled <see cref="DetectionHeadLayer"/> predicting, at every stride-8 location, the distances to its
/// box's sides and one logit per class. Objects from about 8 to 100 pixels (in the letterboxed input) suit it.
/// </summary>
public static class DetectionArchitectures
{
    /// <summary>Stride of the feature map the head predicts on, in input pixels.</summary>
    public const int Stride = 8;

    /// <summary>The name of the single-stage detector in the registry.</summary>
    public const string AnchorFreeDetectorName = "AnchorFreeDetector";

    /// <summary>The input contract of <c>AnchorFreeDetector</c>: RGB, 128×128 letterboxed images by default, pixels in [0, 1]
    /// normalised with ImageNet's mean and standard deviation.</summary>
    public static VisionArchitecture AnchorFreeDetector { get; } = new(
        AnchorFreeDetectorName, 3, 128, 128, Stride, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f],
        "FCOS (Tian et al. 2019) targets with a YOLOX-style decoupled head on one stride-8 level; no FPN",
        ArchitectureParameters.Describe<AnchorFreeDetectorParameters>().ToDictionary(p => p.Name, p => p.ToString(), StringComparer.OrdinalIgnoreCase));

#pragma warning disable CA2255 // Registering from a module initializer is the point: models naming this architecture load without user code.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => ArchitectureRegistry.Register<AnchorFreeDetectorParameters>(AnchorFreeDetectorName, Build);

    /// <summary>An <c>AnchorFreeDetector</c> network with the given parameters (the trainer sets <see cref="AnchorFreeDetectorParameters.Classes"/>).</summary>
    /// <exception cref="ArgumentException">A parameter is out of range (checked here, at the contract's size).</exception>
    public static Network CreateAnchorFreeDetector(AnchorFreeDetectorParameters parameters)
    {
        Guard.NotNull(parameters);
        var network = Network.Create().Architecture(AnchorFreeDetectorName, ArchitectureParameters.From(parameters).Values);
        network.OutputShape(Guard.Positive(parameters.Channels, "channels"), AnchorFreeDetector.Height, AnchorFreeDetector.Width);
        return network;
    }

    private static Network Build(AnchorFreeDetectorParameters p, int[] input)
    {
        var width = CheckInput(AnchorFreeDetectorName, p, input, Stride);
        if (p.Depth < 0)
            throw new ArgumentException($"Architecture parameter 'depth' must be zero or more. Received: depth={p.Depth}", "depth");
        if (p.Classes <= 0)
            throw new ArgumentException($"Architecture parameter 'classes' must be positive. Received: classes={p.Classes}", "classes");
        if (input[1] % Stride != 0 || input[2] % Stride != 0)
            throw new NetworkShapeException(0, new ArchitectureLayer(AnchorFreeDetectorName, ArchitectureParameters.From(p).Values), input,
                $"images whose height and width are multiples of the stride {Stride}");
        var network = Network.Create().ConvBnAct(Scale(16, width), 3, 2);
        foreach (var (filters, blocks) in new[] { (Scale(32, width), p.Depth), (Scale(64, width), p.Depth) })
        {
            network = network.ConvBnAct(filters, 3, 2);
            for (var b = 0; b < blocks; b++)
                network = network.Residual(Network.Create().ConvBnAct(filters, 3).ConvBnAct(filters, 3, activation: null), activation: ActivationKind.ReLU);
        }
        return network.Add(new DetectionHeadLayer(p.Classes, Scale(64, width)));
    }
}

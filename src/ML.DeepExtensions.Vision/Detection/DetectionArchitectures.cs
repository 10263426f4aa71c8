using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Vision.Zoo;
using static ML.DeepExtensions.Vision.Zoo.ZooBlocks;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>The convolutional backbone a detector builds down to its stride-8 feature map (<see cref="DetectorParameters.Backbone"/>).</summary>
public enum DetectorBackbone
{
    /// <summary>The CPU-sized backbone (default): a 3×3 stride-2 stem and two stages of a 3×3 stride-2 convolution and
    /// <see cref="DetectorParameters.Depth"/> ResNet basic blocks; 64·width channels.</summary>
    Compact,

    /// <summary>torchvision's <c>resnet18</c> up to its second stage (<c>conv1</c>, <c>bn1</c>, max pool, <c>layer1</c>,
    /// <c>layer2</c>: two basic blocks each); 128·width channels. Its tensors have the shapes and order of torchvision's, so
    /// <see cref="ML.DeepExtensions.Pretrained.PretrainedWeights"/> of a torchvision ResNet-18 state dict load into it (width 1;
    /// see <see cref="SupervisedTrainerOptions.PretrainedWeights"/>).</summary>
    ResNet18,
}

/// <summary>
/// Parameters every detection architecture shares (<see cref="DetectionArchitectures"/>): the shared stride-8 backbone's width
/// and depth, the class count and the image channels. Set <see cref="ObjectDetectorOptions.Architecture"/> to one of the
/// derived classes to choose the architecture: <see cref="AnchorFreeDetectorParameters"/>, <see cref="FasterRcnnParameters"/>
/// or <see cref="SsdParameters"/>.
/// </summary>
public abstract class DetectorParameters : IImageArchitectureParameters
{
    /// <summary>Channel multiplier of the backbone and head, &gt; 0.</summary>
    [ArchitectureParameter("Channel multiplier of the backbone and head, > 0.")]
    public double Width { get; set; } = 1;

    /// <summary>Residual blocks after each of the stride-4 and stride-8 convolutions of the <see cref="DetectorBackbone.Compact"/>
    /// backbone, ≥ 0 (default 1). The ResNet-18 backbone has torchvision's two blocks per stage and needs the default.</summary>
    [ArchitectureParameter("Residual blocks after each of the stride-4 and stride-8 convolutions of the Compact backbone, >= 0.")]
    public int Depth { get; set; } = 1;

    /// <summary>The backbone down to the stride-8 map: <see cref="DetectorBackbone.Compact"/> (default) or
    /// <see cref="DetectorBackbone.ResNet18"/> (torchvision's ResNet-18 layout, for pretrained weights from a local file).</summary>
    [ArchitectureParameter("The backbone down to the stride-8 map: Compact (CPU-sized) or ResNet18 (torchvision's resnet18 up to layer2).")]
    public DetectorBackbone Backbone { get; set; } = DetectorBackbone.Compact;

    /// <summary>Object classes; the trainer sets it from the label column's key count.</summary>
    [ArchitectureParameter("Object classes; the trainer sets it from the label column's key count.")]
    public int Classes { get; set; } = 1;

    /// <summary>Image channels the network checks its input for.</summary>
    [ArchitectureParameter("Image channels the network checks its input for.")]
    public int Channels { get; set; } = 3;

    /// <summary>The registry name of the architecture these parameters describe.</summary>
    internal abstract string ArchitectureName { get; }

    /// <summary>The stored form of these parameters with the class count and channels replaced.</summary>
    internal abstract IReadOnlyDictionary<string, string> Values(int classes, int channels);
}

/// <summary>Parameters of <c>AnchorFreeDetector</c> (<see cref="DetectionArchitectures"/>); the initializers are the defaults.</summary>
public sealed class AnchorFreeDetectorParameters : DetectorParameters
{
    /// <summary>Feature-pyramid levels the head predicts on: 1 (the stride-8 map only, the default) or 3 (strides 8, 16 and
    /// 32, fused top-down and bottom-up, FPN/PAN style; see <see cref="PyramidDetectionHeadLayer"/>; image sides must then be
    /// multiples of 32).</summary>
    [ArchitectureParameter("Feature-pyramid levels the head predicts on: 1 (stride 8 only) or 3 (strides 8, 16, 32 with FPN/PAN fusion; image sides multiples of 32).")]
    public int PyramidLevels { get; set; } = 1;

    internal override string ArchitectureName => DetectionArchitectures.AnchorFreeDetectorName;

    internal override IReadOnlyDictionary<string, string> Values(int classes, int channels)
        => ArchitectureParameters.From(new AnchorFreeDetectorParameters { Width = Width, Depth = Depth, Backbone = Backbone, Classes = classes, Channels = channels, PyramidLevels = PyramidLevels }).Values;
}

/// <summary>Parameters of <c>Ssd</c> (<see cref="DetectionArchitectures"/>); the initializers are the defaults.</summary>
public sealed class SsdParameters : DetectorParameters
{
    internal override string ArchitectureName => DetectionArchitectures.SsdName;

    internal override IReadOnlyDictionary<string, string> Values(int classes, int channels)
        => ArchitectureParameters.From(new SsdParameters { Width = Width, Depth = Depth, Backbone = Backbone, Classes = classes, Channels = channels }).Values;
}

/// <summary>Parameters of <c>FasterRcnn</c> (<see cref="DetectionArchitectures"/>); the initializers are the defaults.</summary>
public sealed class FasterRcnnParameters : DetectorParameters
{
    /// <summary>Proposals the region proposal network hands to the box head per image (after NMS, best first), &gt; 0.</summary>
    [ArchitectureParameter("Proposals the region proposal network hands to the box head per image (after NMS, best first), > 0.")]
    public int Proposals { get; set; } = 64;

    /// <summary>Units of each of the box head's two fully connected layers, &gt; 0.</summary>
    [ArchitectureParameter("Units of each of the box head's two fully connected layers, > 0.")]
    public int HeadUnits { get; set; } = 256;

    internal override string ArchitectureName => DetectionArchitectures.FasterRcnnName;

    internal override IReadOnlyDictionary<string, string> Values(int classes, int channels)
        => ArchitectureParameters.From(new FasterRcnnParameters { Width = Width, Depth = Depth, Backbone = Backbone, Classes = classes, Channels = channels, Proposals = Proposals, HeadUnits = HeadUnits }).Values;
}

/// <summary>
/// Detection architectures, registered in <see cref="ArchitectureRegistry"/> when this assembly is loaded, each with its
/// input contract. All share one CPU-sized convolutional backbone down to stride 8 (3×3 stride-2 convolutions with batch norm
/// and ReLU, and ResNet basic blocks). <c>AnchorFreeDetector</c>, a single-stage anchor-free detector (FCOS / YOLOX style),
/// puts a decoupled <see cref="DetectionHeadLayer"/> on it, predicting at every stride-8 location the distances to its box's
/// sides and one logit per class. <c>FasterRcnn</c> puts a two-stage <see cref="FasterRcnnHeadLayer"/> on it: a region
/// proposal network over anchors, RoIAlign of the proposals and a two-layer box head. Objects from about 8 to 100 pixels
/// (in the letterboxed input) suit both. <c>Ssd</c> adds two stride-2 convolutions (stride 16 and 32) and predicts class
/// logits and box offsets for 4 default boxes per location on all three maps (<see cref="SsdHeadLayer"/>).
/// </summary>
public static class DetectionArchitectures
{
    /// <summary>Stride of the feature map the head predicts on, in input pixels.</summary>
    public const int Stride = 8;

    /// <summary>The name of the single-stage detector in the registry.</summary>
    public const string AnchorFreeDetectorName = "AnchorFreeDetector";

    /// <summary>The name of the two-stage detector in the registry.</summary>
    public const string FasterRcnnName = "FasterRcnn";

    /// <summary>The name of the multi-scale single-shot detector in the registry.</summary>
    public const string SsdName = "Ssd";

    /// <summary>The input contract of <c>Ssd</c>: as <see cref="AnchorFreeDetector"/>'s (sides must be multiples of 32).</summary>
    public static VisionArchitecture Ssd { get; } = new(
        SsdName, 3, 128, 128, 32, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f],
        "SSD (Liu et al. 2016): default boxes on stride-8/16/32 maps (4 per location), IoU matching, hard-negative mining 3:1",
        ArchitectureParameters.Describe<SsdParameters>().ToDictionary(p => p.Name, p => p.ToString(), StringComparer.OrdinalIgnoreCase));

    /// <summary>The input contract of <c>FasterRcnn</c>: as <see cref="AnchorFreeDetector"/>'s.</summary>
    public static VisionArchitecture FasterRcnn { get; } = new(
        FasterRcnnName, 3, 128, 128, Stride, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f],
        "Faster R-CNN (Ren et al. 2015) on one stride-8 level: RPN with 9 anchors per location, RoIAlign 7×7, two-FC box head; no FPN",
        ArchitectureParameters.Describe<FasterRcnnParameters>().ToDictionary(p => p.Name, p => p.ToString(), StringComparer.OrdinalIgnoreCase));

    /// <summary>The input contract of <c>AnchorFreeDetector</c>: RGB, 128×128 letterboxed images by default, pixels in [0, 1]
    /// normalised with ImageNet's mean and standard deviation.</summary>
    public static VisionArchitecture AnchorFreeDetector { get; } = new(
        AnchorFreeDetectorName, 3, 128, 128, Stride, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f],
        "FCOS (Tian et al. 2019) targets with a YOLOX-style decoupled head on the stride-8 map, or (PyramidLevels=3) on an FPN/PAN pyramid of strides 8/16/32",
        ArchitectureParameters.Describe<AnchorFreeDetectorParameters>().ToDictionary(p => p.Name, p => p.ToString(), StringComparer.OrdinalIgnoreCase));

#pragma warning disable CA2255 // Registering from a module initializer is the point: models naming this architecture load without user code.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        ArchitectureRegistry.Register<AnchorFreeDetectorParameters>(AnchorFreeDetectorName, Build);
        ArchitectureRegistry.Register<FasterRcnnParameters>(FasterRcnnName, BuildFasterRcnn);
        ArchitectureRegistry.Register<SsdParameters>(SsdName, BuildSsd);
    }

    /// <summary>The contract of the architecture named <paramref name="name"/>.</summary>
    internal static VisionArchitecture Contract(string name) => name switch
    {
        FasterRcnnName => FasterRcnn,
        SsdName => Ssd,
        _ => AnchorFreeDetector,
    };

    /// <summary>An <c>AnchorFreeDetector</c> network with the given parameters (the trainer sets <see cref="DetectorParameters.Classes"/>).</summary>
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
        var backbone = Backbone(AnchorFreeDetectorName, p, ArchitectureParameters.From(p).Values, input, out var channels);
        if (p.PyramidLevels is not (1 or 3))
            throw new ArgumentException($"Architecture parameter 'pyramidLevels' must be 1 or 3. Received: pyramidLevels={p.PyramidLevels}", "pyramidLevels");
        if (p.PyramidLevels == 1)
            return backbone.Add(new DetectionHeadLayer(p.Classes, channels));
        if (input[1] % 32 != 0 || input[2] % 32 != 0)
            throw new NetworkShapeException(0, new ArchitectureLayer(AnchorFreeDetectorName, ArchitectureParameters.From(p).Values), input,
                "images whose height and width are multiples of 32 (with pyramidLevels=3 its coarsest map has stride 32)");
        return backbone.Add(new PyramidDetectionHeadLayer(p.Classes, channels));
    }

    private static Network BuildFasterRcnn(FasterRcnnParameters p, int[] input)
    {
        var backbone = Backbone(FasterRcnnName, p, ArchitectureParameters.From(p).Values, input, out var channels);
        if (p.Proposals <= 0)
            throw new ArgumentException($"Architecture parameter 'proposals' must be positive. Received: proposals={p.Proposals}", "proposals");
        if (p.HeadUnits <= 0)
            throw new ArgumentException($"Architecture parameter 'headUnits' must be positive. Received: headUnits={p.HeadUnits}", "headUnits");
        return backbone.Add(new FasterRcnnHeadLayer(p.Classes, p.Proposals, p.HeadUnits));
    }

    private static Network BuildSsd(SsdParameters p, int[] input)
    {
        var backbone = Backbone(SsdName, p, ArchitectureParameters.From(p).Values, input, out _);
        if (input[1] % 32 != 0 || input[2] % 32 != 0)
            throw new NetworkShapeException(0, new ArchitectureLayer(SsdName, ArchitectureParameters.From(p).Values), input,
                "images whose height and width are multiples of 32 (its coarsest map has stride 32)");
        return backbone.Add(new SsdHeadLayer(p.Classes));
    }

    /// <summary>The backbone every detector shares (<see cref="DetectorParameters.Backbone"/>), down to stride 8, with <paramref name="channels"/> output channels.</summary>
    private static Network Backbone<TParameters>(string name, TParameters p, IReadOnlyDictionary<string, string> values, int[] input, out int channels)
        where TParameters : DetectorParameters, new()
    {
        var width = CheckInput(name, p, input, Stride);
        if (p.Depth < 0)
            throw new ArgumentException($"Architecture parameter 'depth' must be zero or more. Received: depth={p.Depth}", "depth");
        if (p.Classes <= 0)
            throw new ArgumentException($"Architecture parameter 'classes' must be positive. Received: classes={p.Classes}", "classes");
        if (input[1] % Stride != 0 || input[2] % Stride != 0)
            throw new NetworkShapeException(0, new ArchitectureLayer(name, values), input,
                $"images whose height and width are multiples of the stride {Stride}");
        if (p.Backbone == DetectorBackbone.ResNet18)
        {
            if (p.Depth != 1)
                throw new ArgumentException($"Architecture parameter 'depth' does not apply to the ResNet18 backbone (torchvision's two blocks per stage); leave it at 1. Received: depth={p.Depth}", "depth");
            return ResNets.Stages([2, 2], bottleneck: false, smallInput: false, width, out channels);
        }
        if (!Enum.IsDefined(p.Backbone))
            throw new ArgumentException($"Architecture parameter 'backbone' must be one of {string.Join(", ", Enum.GetNames<DetectorBackbone>())}. Received: backbone={p.Backbone}", "backbone");
        var network = Network.Create().ConvBnAct(Scale(16, width), 3, 2);
        foreach (var (filters, blocks) in new[] { (Scale(32, width), p.Depth), (Scale(64, width), p.Depth) })
        {
            network = network.ConvBnAct(filters, 3, 2);
            for (var b = 0; b < blocks; b++)
                network = network.Residual(Network.Create().ConvBnAct(filters, 3).ConvBnAct(filters, 3, activation: null), activation: ActivationKind.ReLU);
        }
        channels = Scale(64, width);
        return network;
    }
}

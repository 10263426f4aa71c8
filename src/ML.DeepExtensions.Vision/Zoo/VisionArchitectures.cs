using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using ML.DeepExtensions.Networks;

namespace ML.DeepExtensions.Vision.Zoo;

/// <summary>
/// The vision architecture zoo: LeNet5, AlexNet, Vgg11, Vgg16, ResNet18, ResNet34, ResNet50, EfficientNetB0 and
/// MobileNetV2, registered in <see cref="ArchitectureRegistry"/> when this assembly is loaded, each with its input
/// contract (<see cref="Get"/>). With default parameters every structure matches its reference (torchvision 0.14):
/// same layer kinds and the same parameter and buffer tensors, with the same shapes, in the same state-dict order,
/// up to where the reference's final Linear classifier begins — the trainer appends that layer for its class count.
/// A <c>width</c> multiplier (and <c>depth</c> where it means something) gives CPU-sized variants; ResNets have a
/// <c>smallInput</c> stem for 28–32 px images. Every builder checks the image against the contract
/// (channel count, minimum size) and throws a <see cref="NetworkShapeException"/> that says what it expected.
/// </summary>
public static class VisionArchitectures
{
    private static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] ImageNetStd = [0.229f, 0.224f, 0.225f];

    private static readonly Registration[] Entries =
    [
        Entry<AlexNetParameters>("AlexNet", ClassicNetworks.AlexNetMinimumSize, "torchvision.models.alexnet (0.14)", ClassicNetworks.AlexNet),
        Entry<EfficientNetParameters>("EfficientNetB0", MobileNetworks.MinimumSize, "torchvision.models.efficientnet_b0 (0.14)", MobileNetworks.EfficientNetB0),
        Entry<LeNet5Parameters>("LeNet5", ClassicNetworks.LeNet5MinimumSize, "LeCun et al. 1998, with ReLU and max pooling by default; 28×28 images work",
            ClassicNetworks.LeNet5, size: 32, mean: [0.5f], std: [0.5f]),
        Entry<MobileNetV2Parameters>("MobileNetV2", MobileNetworks.MinimumSize, "torchvision.models.mobilenet_v2 (0.14)", MobileNetworks.MobileNetV2),
        Entry<ResNetParameters>("ResNet18", ResNets.MinimumSize, "torchvision.models.resnet18 (0.14)", ResNets.ResNet18),
        Entry<ResNetParameters>("ResNet34", ResNets.MinimumSize, "torchvision.models.resnet34 (0.14)", ResNets.ResNet34),
        Entry<ResNetParameters>("ResNet50", ResNets.MinimumSize, "torchvision.models.resnet50 (0.14)", ResNets.ResNet50),
        Entry<VggParameters>("Vgg11", ClassicNetworks.VggMinimumSize, "torchvision.models.vgg11 / vgg11_bn (0.14)", ClassicNetworks.Vgg11),
        Entry<VggParameters>("Vgg16", ClassicNetworks.VggMinimumSize, "torchvision.models.vgg16 / vgg16_bn (0.14)", ClassicNetworks.Vgg16),
    ];

    /// <summary>Registers every architecture. Runs when this assembly is first used or loaded by a model that names it.</summary>
#pragma warning disable CA2255 // Registering from a module initializer is the point: models naming these architectures load without user code.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        foreach (var entry in Entries)
            entry.Register();
    }

    /// <summary>The contracts of every architecture of the zoo, by name.</summary>
    public static IReadOnlyList<VisionArchitecture> All { get; } = Entries.Select(e => e.Contract).ToArray();

    /// <summary>The input contract of <paramref name="name"/> (case-insensitive), e.g. <c>Get("ResNet18")</c>.</summary>
    /// <exception cref="KeyNotFoundException">No vision architecture has that name; the message lists them.</exception>
    public static VisionArchitecture Get(string name)
    {
        Guard.NotEmpty(name);
        return All.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new KeyNotFoundException($"'{name}' is not a vision architecture. Available: {string.Join(", ", All.Select(a => a.Name))}.");
    }

    /// <summary>LeNet-5 for 32×32 (or 28×28) grey images: conv 6@5×5, pool, conv 16@5×5, pool, Dense 120, Dense 84.
    /// Arguments left null take the defaults of <see cref="LeNet5Parameters"/>.</summary>
    /// <param name="width">Channel and unit multiplier, &gt; 0.</param>
    /// <param name="channels">Image channels.</param>
    /// <param name="activation">Activation after every layer (<see cref="ActivationKind.Tanh"/> for the original).</param>
    /// <param name="pooling">Max or Average (the original's) pooling.</param>
    public static Network LeNet5(double? width = null, int? channels = null, ActivationKind? activation = null, PoolingKind? pooling = null)
    {
        var p = new LeNet5Parameters();
        p.Width = width ?? p.Width;
        p.Channels = channels ?? p.Channels;
        p.Activation = activation ?? p.Activation;
        p.Pooling = pooling ?? p.Pooling;
        return LeNet5(p);
    }

    /// <summary>LeNet-5 with the given parameters.</summary>
    /// <exception cref="ArgumentException">A parameter is out of range (checked here, by building the network once at the contract's size).</exception>
    public static Network LeNet5(LeNet5Parameters parameters) => Create("LeNet5", parameters);

    /// <summary>AlexNet as torchvision's, up to its final Linear layer. Arguments left null take the defaults of <see cref="AlexNetParameters"/>.</summary>
    /// <param name="width">Channel multiplier of the convolutions, &gt; 0.</param>
    /// <param name="hidden">Units of the two hidden Linear layers.</param>
    /// <param name="dropout">Dropout before each hidden Linear layer.</param>
    /// <param name="poolSize">Side of the adaptive average pool before the classifier.</param>
    /// <param name="channels">Image channels.</param>
    public static Network AlexNet(double? width = null, int? hidden = null, double? dropout = null, int? poolSize = null, int? channels = null)
    {
        var p = new AlexNetParameters();
        p.Width = width ?? p.Width;
        p.Hidden = hidden ?? p.Hidden;
        p.Dropout = dropout ?? p.Dropout;
        p.PoolSize = poolSize ?? p.PoolSize;
        p.Channels = channels ?? p.Channels;
        return AlexNet(p);
    }

    /// <summary>AlexNet with the given parameters.</summary>
    /// <exception cref="ArgumentException">A parameter is out of range (checked here, by building the network once at the contract's size).</exception>
    public static Network AlexNet(AlexNetParameters parameters) => Create("AlexNet", parameters);

    /// <summary>VGG-11 (configuration A) as torchvision's vgg11 / vgg11_bn, up to its final Linear layer.
    /// Arguments left null take the defaults of <see cref="VggParameters"/>.</summary>
    /// <param name="width">Channel multiplier of the convolutions, &gt; 0.</param>
    /// <param name="batchNorm">Batch norm after every convolution (vgg11_bn).</param>
    /// <param name="hidden">Units of the two hidden Linear layers.</param>
    /// <param name="dropout">Dropout after each hidden Linear layer.</param>
    /// <param name="poolSize">Side of the adaptive average pool before the classifier.</param>
    /// <param name="channels">Image channels.</param>
    public static Network Vgg11(double? width = null, bool? batchNorm = null, int? hidden = null, double? dropout = null, int? poolSize = null, int? channels = null)
        => Vgg11(Vgg(width, batchNorm, hidden, dropout, poolSize, channels));

    /// <summary>VGG-11 with the given parameters.</summary>
    /// <exception cref="ArgumentException">A parameter is out of range (checked here, by building the network once at the contract's size).</exception>
    public static Network Vgg11(VggParameters parameters) => Create("Vgg11", parameters);

    /// <summary>VGG-16 (configuration D) as torchvision's vgg16 / vgg16_bn, up to its final Linear layer.
    /// Arguments left null take the defaults of <see cref="VggParameters"/>.</summary>
    /// <param name="width">Channel multiplier of the convolutions, &gt; 0.</param>
    /// <param name="batchNorm">Batch norm after every convolution (vgg16_bn).</param>
    /// <param name="hidden">Units of the two hidden Linear layers.</param>
    /// <param name="dropout">Dropout after each hidden Linear layer.</param>
    /// <param name="poolSize">Side of the adaptive average pool before the classifier.</param>
    /// <param name="channels">Image channels.</param>
    public static Network Vgg16(double? width = null, bool? batchNorm = null, int? hidden = null, double? dropout = null, int? poolSize = null, int? channels = null)
        => Vgg16(Vgg(width, batchNorm, hidden, dropout, poolSize, channels));

    /// <summary>VGG-16 with the given parameters.</summary>
    /// <exception cref="ArgumentException">A parameter is out of range (checked here, by building the network once at the contract's size).</exception>
    public static Network Vgg16(VggParameters parameters) => Create("Vgg16", parameters);

    /// <summary>ResNet-18 as torchvision's, up to the global average pool (512·width features).
    /// Arguments left null take the defaults of <see cref="ResNetParameters"/>.</summary>
    /// <param name="width">Channel multiplier, &gt; 0.</param>
    /// <param name="smallInput">3×3 stride-1 stem without max-pool, for 28–32 px images (otherwise a 7×7 stride-2 stem and max-pool).</param>
    /// <param name="channels">Image channels.</param>
    /// <param name="blocks">Blocks per stage, four positive counts (null: torchvision's); e.g. [2, 2, 2, 3] for the ImageNet weights of <see cref="Pretrained.ImageNetWeights"/>.</param>
    public static Network ResNet18(double? width = null, bool? smallInput = null, int? channels = null, int[]? blocks = null)
        => ResNet18(ResNet(width, smallInput, channels, blocks));

    /// <summary>ResNet-18 with the given parameters.</summary>
    /// <exception cref="ArgumentException">A parameter is out of range (checked here, by building the network once at the contract's size).</exception>
    public static Network ResNet18(ResNetParameters parameters) => Create("ResNet18", parameters);

    /// <summary>ResNet-34 as torchvision's, up to the global average pool (512·width features).
    /// Arguments left null take the defaults of <see cref="ResNetParameters"/>.</summary>
    /// <param name="width">Channel multiplier, &gt; 0.</param>
    /// <param name="smallInput">3×3 stride-1 stem without max-pool, for 28–32 px images.</param>
    /// <param name="channels">Image channels.</param>
    /// <param name="blocks">Blocks per stage, four positive counts (null: torchvision's).</param>
    public static Network ResNet34(double? width = null, bool? smallInput = null, int? channels = null, int[]? blocks = null)
        => ResNet34(ResNet(width, smallInput, channels, blocks));

    /// <summary>ResNet-34 with the given parameters.</summary>
    /// <exception cref="ArgumentException">A parameter is out of range (checked here, by building the network once at the contract's size).</exception>
    public static Network ResNet34(ResNetParameters parameters) => Create("ResNet34", parameters);

    /// <summary>ResNet-50 (bottleneck blocks) as torchvision's, up to the global average pool (2048·width features).
    /// Arguments left null take the defaults of <see cref="ResNetParameters"/>.</summary>
    /// <param name="width">Channel multiplier, &gt; 0.</param>
    /// <param name="smallInput">3×3 stride-1 stem without max-pool, for 28–32 px images.</param>
    /// <param name="channels">Image channels.</param>
    /// <param name="blocks">Blocks per stage, four positive counts (null: torchvision's).</param>
    public static Network ResNet50(double? width = null, bool? smallInput = null, int? channels = null, int[]? blocks = null)
        => ResNet50(ResNet(width, smallInput, channels, blocks));

    /// <summary>ResNet-50 with the given parameters.</summary>
    /// <exception cref="ArgumentException">A parameter is out of range (checked here, by building the network once at the contract's size).</exception>
    public static Network ResNet50(ResNetParameters parameters) => Create("ResNet50", parameters);

    /// <summary>EfficientNet-B0 as torchvision's, up to its final Linear layer (1280 features at width 1).
    /// Arguments left null take the defaults of <see cref="EfficientNetParameters"/>.</summary>
    /// <param name="width">Channel multiplier (compound scaling), &gt; 0; channels are rounded to multiples of 8.</param>
    /// <param name="depth">Block-count multiplier (compound scaling), &gt; 0.</param>
    /// <param name="dropout">Dropout before the classifier.</param>
    /// <param name="stochasticDepth">Largest stochastic-depth drop probability, reached by the last block.</param>
    /// <param name="channels">Image channels.</param>
    public static Network EfficientNetB0(double? width = null, double? depth = null, double? dropout = null, double? stochasticDepth = null, int? channels = null)
    {
        var p = new EfficientNetParameters();
        p.Width = width ?? p.Width;
        p.Depth = depth ?? p.Depth;
        p.Dropout = dropout ?? p.Dropout;
        p.StochasticDepth = stochasticDepth ?? p.StochasticDepth;
        p.Channels = channels ?? p.Channels;
        return EfficientNetB0(p);
    }

    /// <summary>EfficientNet-B0 with the given parameters (B1, B2, … through <see cref="EfficientNetParameters.Width"/> and <see cref="EfficientNetParameters.Depth"/>).</summary>
    /// <exception cref="ArgumentException">A parameter is out of range (checked here, by building the network once at the contract's size).</exception>
    public static Network EfficientNetB0(EfficientNetParameters parameters) => Create("EfficientNetB0", parameters);

    /// <summary>MobileNetV2 as torchvision's, up to its final Linear layer (1280 features for width ≤ 1).
    /// Arguments left null take the defaults of <see cref="MobileNetV2Parameters"/>.</summary>
    /// <param name="width">The reference's width_mult, &gt; 0; channels are rounded to multiples of 8.</param>
    /// <param name="depth">Block-count multiplier, &gt; 0.</param>
    /// <param name="dropout">Dropout before the classifier.</param>
    /// <param name="channels">Image channels.</param>
    public static Network MobileNetV2(double? width = null, double? depth = null, double? dropout = null, int? channels = null)
    {
        var p = new MobileNetV2Parameters();
        p.Width = width ?? p.Width;
        p.Depth = depth ?? p.Depth;
        p.Dropout = dropout ?? p.Dropout;
        p.Channels = channels ?? p.Channels;
        return MobileNetV2(p);
    }

    /// <summary>MobileNetV2 with the given parameters.</summary>
    /// <exception cref="ArgumentException">A parameter is out of range (checked here, by building the network once at the contract's size).</exception>
    public static Network MobileNetV2(MobileNetV2Parameters parameters) => Create("MobileNetV2", parameters);

    private static VggParameters Vgg(double? width, bool? batchNorm, int? hidden, double? dropout, int? poolSize, int? channels)
    {
        var p = new VggParameters();
        p.Width = width ?? p.Width;
        p.BatchNorm = batchNorm ?? p.BatchNorm;
        p.Hidden = hidden ?? p.Hidden;
        p.Dropout = dropout ?? p.Dropout;
        p.PoolSize = poolSize ?? p.PoolSize;
        p.Channels = channels ?? p.Channels;
        return p;
    }

    private static ResNetParameters ResNet(double? width, bool? smallInput, int? channels, int[]? blocks)
    {
        var p = new ResNetParameters();
        p.Width = width ?? p.Width;
        p.SmallInput = smallInput ?? p.SmallInput;
        p.Channels = channels ?? p.Channels;
        p.Blocks = blocks ?? p.Blocks;
        return p;
    }

    private static Network Create<TParameters>(string name, TParameters parameters) where TParameters : class, IImageArchitectureParameters, new()
    {
        var network = Network.Create().Architecture(name, ArchitectureParameters.From(parameters).Values);
        // Expanding once at the contract's size checks every parameter here, where it is given, not at training time.
        var contract = Get(name);
        network.OutputShape(Guard.Positive(parameters.Channels, "channels"), contract.Height, contract.Width);
        return network;
    }

    /// <summary>A contract whose parameter descriptions and default channel count come from <typeparamref name="TParameters"/>, and its registration.</summary>
    private static Registration Entry<TParameters>(string name, int minimumSize, string reference, Func<TParameters, int[], Network> builder,
        int size = 224, float[]? mean = null, float[]? std = null)
        where TParameters : class, IImageArchitectureParameters, new()
    {
        var parameters = ArchitectureParameters.Describe<TParameters>().ToDictionary(p => p.Name, p => p.ToString(), StringComparer.OrdinalIgnoreCase);
        var contract = new VisionArchitecture(name, new TParameters().Channels, size, size, minimumSize, mean ?? ImageNetMean, std ?? ImageNetStd, reference, parameters);
        return new Registration(contract, () => ArchitectureRegistry.Register(name, builder));
    }

    private sealed record Registration(VisionArchitecture Contract, Action Register);
}

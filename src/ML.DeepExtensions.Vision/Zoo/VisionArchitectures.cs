using System;
using System.Collections.Generic;
using System.Globalization;
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

    private static readonly Dictionary<string, string> CommonParameters = new()
    {
        ["width"] = "Channel multiplier, > 0 (default 1 = the reference).",
        ["channels"] = "Input channels the network checks for (default: the contract's Channels).",
    };

    private static readonly (VisionArchitecture Contract, ArchitectureBuilder Builder)[] Entries =
    [
        (ImageNet("AlexNet", ClassicNetworks.AlexNetMinimumSize, "torchvision.models.alexnet (0.14)", ("hidden", "Units of the two hidden Linear layers (default 4096)."),
            ("dropout", "Dropout before each hidden Linear layer (default 0.5)."), ("poolSize", "Side of the adaptive average pool before the classifier (default 6).")), ClassicNetworks.AlexNet),
        (ImageNet("EfficientNetB0", MobileNetworks.MinimumSize, "torchvision.models.efficientnet_b0 (0.14)", ("depth", "Block-count multiplier (compound scaling), > 0 (default 1)."),
            ("dropout", "Dropout before the classifier (default 0.2)."), ("stochasticDepth", "Largest stochastic-depth drop probability (default 0.2).")), MobileNetworks.EfficientNetB0),
        (new VisionArchitecture("LeNet5", 1, 32, 32, ClassicNetworks.LeNet5MinimumSize, [0.5f], [0.5f], "LeCun et al. 1998, with ReLU and max pooling by default; 28×28 images work",
            Describe(("activation", "Activation after every layer (default ReLU; Tanh for the original)."), ("pooling", "Max (default) or Average (the original's subsampling)."))), ClassicNetworks.LeNet5),
        (ImageNet("MobileNetV2", MobileNetworks.MinimumSize, "torchvision.models.mobilenet_v2 (0.14)", ("depth", "Block-count multiplier, > 0 (default 1)."),
            ("dropout", "Dropout before the classifier (default 0.2).")), MobileNetworks.MobileNetV2),
        (ImageNet("ResNet18", ResNets.MinimumSize, "torchvision.models.resnet18 (0.14)", ("smallInput", "3×3 stride-1 stem without max-pool for 28–32 px images (default false)."),
            ("blocks", "Blocks per stage, four comma-separated counts (default 2,2,2,2).")), ResNets.ResNet18),
        (ImageNet("ResNet34", ResNets.MinimumSize, "torchvision.models.resnet34 (0.14)", ("smallInput", "3×3 stride-1 stem without max-pool for 28–32 px images (default false)."),
            ("blocks", "Blocks per stage, four comma-separated counts (default 3,4,6,3).")), ResNets.ResNet34),
        (ImageNet("ResNet50", ResNets.MinimumSize, "torchvision.models.resnet50 (0.14)", ("smallInput", "3×3 stride-1 stem without max-pool for 28–32 px images (default false)."),
            ("blocks", "Blocks per stage, four comma-separated counts (default 3,4,6,3).")), ResNets.ResNet50),
        (ImageNet("Vgg11", ClassicNetworks.VggMinimumSize, "torchvision.models.vgg11 / vgg11_bn (0.14)", VggParameters), ClassicNetworks.Vgg11),
        (ImageNet("Vgg16", ClassicNetworks.VggMinimumSize, "torchvision.models.vgg16 / vgg16_bn (0.14)", VggParameters), ClassicNetworks.Vgg16),
    ];

    private static (string, string)[] VggParameters =>
    [
        ("batchNorm", "Batch norm after every convolution, as vgg*_bn (default false)."),
        ("hidden", "Units of the two hidden Linear layers (default 4096)."),
        ("dropout", "Dropout after each hidden Linear layer (default 0.5)."),
        ("poolSize", "Side of the adaptive average pool before the classifier (default 7)."),
    ];

    /// <summary>Registers every architecture. Runs when this assembly is first used or loaded by a model that names it.</summary>
#pragma warning disable CA2255 // Registering from a module initializer is the point: models naming these architectures load without user code.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        foreach (var (contract, builder) in Entries)
            ArchitectureRegistry.Register(contract.Name, builder);
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

    /// <summary>LeNet-5 for 32×32 (or 28×28) grey images: conv 6@5×5, pool, conv 16@5×5, pool, Dense 120, Dense 84.</summary>
    /// <param name="width">Channel and unit multiplier, &gt; 0 (default 1).</param>
    /// <param name="channels">Image channels (default 1).</param>
    /// <param name="activation">Activation after every layer (default ReLU; Tanh for the original).</param>
    /// <param name="pooling">Max (default) or Average pooling.</param>
    public static Network LeNet5(double width = 1, int channels = 1, ActivationKind activation = ActivationKind.ReLU, PoolingKind pooling = PoolingKind.Max)
        => Create("LeNet5", ("width", Number(width)), ("channels", Number(channels)), ("activation", activation.ToString()), ("pooling", pooling.ToString()));

    /// <summary>AlexNet as torchvision's, up to its final Linear layer.</summary>
    /// <param name="width">Channel multiplier of the convolutions, &gt; 0 (default 1).</param>
    /// <param name="hidden">Units of the two hidden Linear layers (default 4096).</param>
    /// <param name="dropout">Dropout before each hidden Linear layer (default 0.5).</param>
    /// <param name="poolSize">Side of the adaptive average pool before the classifier (default 6).</param>
    /// <param name="channels">Image channels (default 3).</param>
    public static Network AlexNet(double width = 1, int hidden = 4096, double dropout = 0.5, int poolSize = 6, int channels = 3)
        => Create("AlexNet", ("width", Number(width)), ("hidden", Number(hidden)), ("dropout", Number(dropout)), ("poolSize", Number(poolSize)), ("channels", Number(channels)));

    /// <summary>VGG-11 (configuration A) as torchvision's vgg11 / vgg11_bn, up to its final Linear layer.</summary>
    /// <param name="width">Channel multiplier of the convolutions, &gt; 0 (default 1).</param>
    /// <param name="batchNorm">Batch norm after every convolution (default false).</param>
    /// <param name="hidden">Units of the two hidden Linear layers (default 4096).</param>
    /// <param name="dropout">Dropout after each hidden Linear layer (default 0.5).</param>
    /// <param name="poolSize">Side of the adaptive average pool before the classifier (default 7).</param>
    /// <param name="channels">Image channels (default 3).</param>
    public static Network Vgg11(double width = 1, bool batchNorm = false, int hidden = 4096, double dropout = 0.5, int poolSize = 7, int channels = 3)
        => Vgg("Vgg11", width, batchNorm, hidden, dropout, poolSize, channels);

    /// <summary>VGG-16 (configuration D) as torchvision's vgg16 / vgg16_bn, up to its final Linear layer.</summary>
    /// <param name="width">Channel multiplier of the convolutions, &gt; 0 (default 1).</param>
    /// <param name="batchNorm">Batch norm after every convolution (default false).</param>
    /// <param name="hidden">Units of the two hidden Linear layers (default 4096).</param>
    /// <param name="dropout">Dropout after each hidden Linear layer (default 0.5).</param>
    /// <param name="poolSize">Side of the adaptive average pool before the classifier (default 7).</param>
    /// <param name="channels">Image channels (default 3).</param>
    public static Network Vgg16(double width = 1, bool batchNorm = false, int hidden = 4096, double dropout = 0.5, int poolSize = 7, int channels = 3)
        => Vgg("Vgg16", width, batchNorm, hidden, dropout, poolSize, channels);

    /// <summary>ResNet-18 as torchvision's, up to the global average pool (512·width features).</summary>
    /// <param name="width">Channel multiplier, &gt; 0 (default 1).</param>
    /// <param name="smallInput">3×3 stride-1 stem without max-pool, for 28–32 px images (default false: 7×7 stride-2 stem + max-pool).</param>
    /// <param name="channels">Image channels (default 3).</param>
    /// <param name="blocks">Blocks per stage, four positive counts (default null: torchvision's 2, 2, 2, 2); e.g. [2, 2, 2, 3] for the ImageNet weights of <see cref="Pretrained.ImageNetWeights"/>.</param>
    public static Network ResNet18(double width = 1, bool smallInput = false, int channels = 3, int[]? blocks = null) => ResNet("ResNet18", width, smallInput, channels, blocks);

    /// <summary>ResNet-34 as torchvision's, up to the global average pool (512·width features).</summary>
    /// <param name="width">Channel multiplier, &gt; 0 (default 1).</param>
    /// <param name="smallInput">3×3 stride-1 stem without max-pool, for 28–32 px images (default false).</param>
    /// <param name="channels">Image channels (default 3).</param>
    /// <param name="blocks">Blocks per stage, four positive counts (default null: torchvision's 3, 4, 6, 3).</param>
    public static Network ResNet34(double width = 1, bool smallInput = false, int channels = 3, int[]? blocks = null) => ResNet("ResNet34", width, smallInput, channels, blocks);

    /// <summary>ResNet-50 (bottleneck blocks) as torchvision's, up to the global average pool (2048·width features).</summary>
    /// <param name="width">Channel multiplier, &gt; 0 (default 1).</param>
    /// <param name="smallInput">3×3 stride-1 stem without max-pool, for 28–32 px images (default false).</param>
    /// <param name="channels">Image channels (default 3).</param>
    /// <param name="blocks">Blocks per stage, four positive counts (default null: torchvision's 3, 4, 6, 3).</param>
    public static Network ResNet50(double width = 1, bool smallInput = false, int channels = 3, int[]? blocks = null) => ResNet("ResNet50", width, smallInput, channels, blocks);

    /// <summary>EfficientNet-B0 as torchvision's, up to its final Linear layer (1280 features at width 1).</summary>
    /// <param name="width">Channel multiplier (compound scaling), &gt; 0 (default 1); channels are rounded to multiples of 8.</param>
    /// <param name="depth">Block-count multiplier (compound scaling), &gt; 0 (default 1).</param>
    /// <param name="dropout">Dropout before the classifier (default 0.2).</param>
    /// <param name="stochasticDepth">Largest stochastic-depth drop probability, reached by the last block (default 0.2).</param>
    /// <param name="channels">Image channels (default 3).</param>
    public static Network EfficientNetB0(double width = 1, double depth = 1, double dropout = 0.2, double stochasticDepth = 0.2, int channels = 3)
        => Create("EfficientNetB0", ("width", Number(width)), ("depth", Number(depth)), ("dropout", Number(dropout)), ("stochasticDepth", Number(stochasticDepth)), ("channels", Number(channels)));

    /// <summary>MobileNetV2 as torchvision's, up to its final Linear layer (1280 features for width ≤ 1).</summary>
    /// <param name="width">The reference's width_mult, &gt; 0 (default 1); channels are rounded to multiples of 8.</param>
    /// <param name="depth">Block-count multiplier, &gt; 0 (default 1).</param>
    /// <param name="dropout">Dropout before the classifier (default 0.2).</param>
    /// <param name="channels">Image channels (default 3).</param>
    public static Network MobileNetV2(double width = 1, double depth = 1, double dropout = 0.2, int channels = 3)
        => Create("MobileNetV2", ("width", Number(width)), ("depth", Number(depth)), ("dropout", Number(dropout)), ("channels", Number(channels)));

    private static Network Vgg(string name, double width, bool batchNorm, int hidden, double dropout, int poolSize, int channels)
        => Create(name, ("width", Number(width)), ("batchNorm", batchNorm ? "true" : "false"), ("hidden", Number(hidden)), ("dropout", Number(dropout)), ("poolSize", Number(poolSize)), ("channels", Number(channels)));

    private static Network ResNet(string name, double width, bool smallInput, int channels, int[]? blocks)
    {
        (string, string)[] parameters = [("width", Number(width)), ("smallInput", smallInput ? "true" : "false"), ("channels", Number(channels))];
        // Written only when given, so networks with torchvision's blocks persist as before.
        return blocks is null ? Create(name, parameters) : Create(name, [.. parameters, ("blocks", string.Join(",", blocks.Select(Number)))]);
    }

    private static Network Create(string name, params (string Key, string Value)[] parameters)
    {
        var network = Network.Create().Architecture(name, parameters.ToDictionary(p => p.Key, p => p.Value));
        // Expanding once at the contract's size checks every parameter here, where it is given, not at training time.
        var contract = Get(name);
        var channels = Guard.Positive(int.Parse(parameters.Single(p => p.Key == "channels").Value, CultureInfo.InvariantCulture), "channels");
        network.OutputShape(channels, contract.Height, contract.Width);
        return network;
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static VisionArchitecture ImageNet(string name, int minimumSize, string reference, params (string Name, string Meaning)[] parameters)
        => new(name, 3, 224, 224, minimumSize, ImageNetMean, ImageNetStd, reference, Describe(parameters));

    private static IReadOnlyDictionary<string, string> Describe(params (string Name, string Meaning)[] parameters)
    {
        var all = new Dictionary<string, string>(CommonParameters, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, meaning) in parameters)
            all[name] = meaning;
        return all;
    }
}

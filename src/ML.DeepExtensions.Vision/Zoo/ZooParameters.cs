using ML.DeepExtensions.Networks;

namespace ML.DeepExtensions.Vision.Zoo;

// One class per architecture family: the property initializers are the defaults (the only place they are written),
// the attributes the descriptions shown in VisionArchitecture.Parameters. Properties are declared in the order the
// zoo has always stored them, so networks keep their JSON.

/// <summary>Parameters of <c>LeNet5</c> (<see cref="VisionArchitectures.LeNet5(LeNet5Parameters)"/>); the initializers are the defaults.</summary>
public sealed class LeNet5Parameters : IImageArchitectureParameters
{
    /// <summary>Channel and unit multiplier, &gt; 0.</summary>
    [ArchitectureParameter("Channel and unit multiplier, > 0.")]
    public double Width { get; set; } = 1;

    /// <summary>Image channels the network checks its input for.</summary>
    [ArchitectureParameter(ZooText.Channels)]
    public int Channels { get; set; } = 1;

    /// <summary>Activation after every layer (<see cref="ActivationKind.Tanh"/> for the original).</summary>
    [ArchitectureParameter("Activation after every layer (Tanh for the original).")]
    public ActivationKind Activation { get; set; } = ActivationKind.ReLU;

    /// <summary>Pooling after each convolution (<see cref="PoolingKind.Average"/> for the original's subsampling).</summary>
    [ArchitectureParameter("Pooling after each convolution (Average for the original's subsampling).")]
    public PoolingKind Pooling { get; set; } = PoolingKind.Max;
}

/// <summary>Parameters of <c>AlexNet</c> (<see cref="VisionArchitectures.AlexNet(AlexNetParameters)"/>); the initializers are the defaults.</summary>
public sealed class AlexNetParameters : IImageArchitectureParameters
{
    /// <summary>Channel multiplier of the convolutions, &gt; 0.</summary>
    [ArchitectureParameter(ZooText.Width)]
    public double Width { get; set; } = 1;

    /// <summary>Units of the two hidden Linear layers.</summary>
    [ArchitectureParameter("Units of the two hidden Linear layers.")]
    public int Hidden { get; set; } = 4096;

    /// <summary>Dropout before each hidden Linear layer.</summary>
    [ArchitectureParameter("Dropout before each hidden Linear layer.")]
    public double Dropout { get; set; } = 0.5;

    /// <summary>Side of the adaptive average pool before the classifier.</summary>
    [ArchitectureParameter(ZooText.PoolSize)]
    public int PoolSize { get; set; } = 6;

    /// <summary>Image channels the network checks its input for.</summary>
    [ArchitectureParameter(ZooText.Channels)]
    public int Channels { get; set; } = 3;
}

/// <summary>Parameters of <c>Vgg11</c> and <c>Vgg16</c> (<see cref="VisionArchitectures.Vgg16(VggParameters)"/>); the initializers are the defaults.</summary>
public sealed class VggParameters : IImageArchitectureParameters
{
    /// <summary>Channel multiplier of the convolutions, &gt; 0.</summary>
    [ArchitectureParameter(ZooText.Width)]
    public double Width { get; set; } = 1;

    /// <summary>Batch norm after every convolution, as torchvision's vgg*_bn.</summary>
    [ArchitectureParameter("Batch norm after every convolution, as vgg*_bn.")]
    public bool BatchNorm { get; set; } = false;

    /// <summary>Units of the two hidden Linear layers.</summary>
    [ArchitectureParameter("Units of the two hidden Linear layers.")]
    public int Hidden { get; set; } = 4096;

    /// <summary>Dropout after each hidden Linear layer.</summary>
    [ArchitectureParameter("Dropout after each hidden Linear layer.")]
    public double Dropout { get; set; } = 0.5;

    /// <summary>Side of the adaptive average pool before the classifier.</summary>
    [ArchitectureParameter(ZooText.PoolSize)]
    public int PoolSize { get; set; } = 7;

    /// <summary>Image channels the network checks its input for.</summary>
    [ArchitectureParameter(ZooText.Channels)]
    public int Channels { get; set; } = 3;
}

/// <summary>Parameters of <c>ResNet18</c>, <c>ResNet34</c> and <c>ResNet50</c> (<see cref="VisionArchitectures.ResNet18(ResNetParameters)"/>); the initializers are the defaults.</summary>
public sealed class ResNetParameters : IImageArchitectureParameters
{
    /// <summary>Channel multiplier, &gt; 0.</summary>
    [ArchitectureParameter(ZooText.Width)]
    public double Width { get; set; } = 1;

    /// <summary>3×3 stride-1 stem without max-pool, for 28–32 px images (otherwise torchvision's 7×7 stride-2 stem and max-pool).</summary>
    [ArchitectureParameter("3×3 stride-1 stem without max-pool, for 28–32 px images.")]
    public bool SmallInput { get; set; } = false;

    /// <summary>Image channels the network checks its input for.</summary>
    [ArchitectureParameter(ZooText.Channels)]
    public int Channels { get; set; } = 3;

    /// <summary>Blocks per stage, four positive counts; null (unset, not stored) means torchvision's for the variant.
    /// [2, 2, 2, 3] fits the ImageNet weights of <see cref="Pretrained.ImageNetWeights"/>.</summary>
    [ArchitectureParameter("Blocks per stage, four comma-separated positive counts (unset: torchvision's for the variant).")]
    public int[]? Blocks { get; set; }
}

/// <summary>Parameters of <c>EfficientNetB0</c> (<see cref="VisionArchitectures.EfficientNetB0(EfficientNetParameters)"/>); the initializers are the defaults.</summary>
public sealed class EfficientNetParameters : IImageArchitectureParameters
{
    /// <summary>Channel multiplier (compound scaling), &gt; 0; channels are rounded to multiples of 8.</summary>
    [ArchitectureParameter("Channel multiplier (compound scaling), > 0; channels are rounded to multiples of 8.")]
    public double Width { get; set; } = 1;

    /// <summary>Block-count multiplier (compound scaling), &gt; 0.</summary>
    [ArchitectureParameter("Block-count multiplier (compound scaling), > 0.")]
    public double Depth { get; set; } = 1;

    /// <summary>Dropout before the classifier.</summary>
    [ArchitectureParameter("Dropout before the classifier.")]
    public double Dropout { get; set; } = 0.2;

    /// <summary>Largest stochastic-depth drop probability, reached by the last block.</summary>
    [ArchitectureParameter("Largest stochastic-depth drop probability, reached by the last block.")]
    public double StochasticDepth { get; set; } = 0.2;

    /// <summary>Image channels the network checks its input for.</summary>
    [ArchitectureParameter(ZooText.Channels)]
    public int Channels { get; set; } = 3;
}

/// <summary>Parameters of <c>MobileNetV2</c> (<see cref="VisionArchitectures.MobileNetV2(MobileNetV2Parameters)"/>); the initializers are the defaults.</summary>
public sealed class MobileNetV2Parameters : IImageArchitectureParameters
{
    /// <summary>The reference's width_mult, &gt; 0; channels are rounded to multiples of 8.</summary>
    [ArchitectureParameter("The reference's width_mult, > 0; channels are rounded to multiples of 8.")]
    public double Width { get; set; } = 1;

    /// <summary>Block-count multiplier, &gt; 0.</summary>
    [ArchitectureParameter("Block-count multiplier, > 0.")]
    public double Depth { get; set; } = 1;

    /// <summary>Dropout before the classifier.</summary>
    [ArchitectureParameter("Dropout before the classifier.")]
    public double Dropout { get; set; } = 0.2;

    /// <summary>Image channels the network checks its input for.</summary>
    [ArchitectureParameter(ZooText.Channels)]
    public int Channels { get; set; } = 3;
}

/// <summary>What every zoo builder checks the image against.</summary>
internal interface IImageArchitectureParameters
{
    double Width { get; }

    int Channels { get; }
}

/// <summary>Descriptions several parameter classes share.</summary>
internal static class ZooText
{
    public const string Width = "Channel multiplier, > 0 (1 = the reference).";
    public const string Channels = "Image channels the network checks its input for.";
    public const string PoolSize = "Side of the adaptive average pool before the classifier.";
}

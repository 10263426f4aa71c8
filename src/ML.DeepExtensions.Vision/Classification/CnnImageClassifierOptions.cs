using System;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Tasks;
using ML.DeepExtensions.Vision.Zoo;

namespace ML.DeepExtensions.Vision.Classification;

/// <summary>
/// Options of <see cref="CnnImageClassifierTrainer"/>. Every engine and supervised setting of
/// <see cref="SupervisedTrainerOptions"/> applies (epochs, optimizer, validation, early stopping, checkpoints, label
/// column, pretrained weights …), plus the image column, the network and how images are prepared.
/// </summary>
public sealed class CnnImageClassifierOptions : SupervisedTrainerOptions
{
    /// <summary>
    /// The image column (default <c>Image</c>): an image (<c>MLImage</c>, from <c>mlContext.Transforms.LoadImages</c>),
    /// resized and converted here; or pixels already extracted channel by channel, whose shape is <see cref="InputShape"/>
    /// or the architecture's contract, used as they are (not resized: <see cref="ImageHeight"/>, <see cref="ImageWidth"/>
    /// and <see cref="Channels"/> must then be unset or equal that shape). Pixel values are not rescaled: Single pixels
    /// should be in [0, 1] (<c>ExtractPixels(..., scaleImage: 1f / 255)</c>), which the architectures' <see cref="Mean"/>
    /// and <see cref="Std"/> assume; Byte pixels enter as 0–255, so give them with a <see cref="Mean"/>/<see cref="Std"/>
    /// on that scale (e.g. 255 × the architecture's) or convert them to Single in [0, 1] first.
    /// </summary>
    public string ImageColumnName { get; set; } = "Image";

    /// <summary>
    /// The network body: a zoo architecture (<see cref="VisionArchitectures"/>, default <c>LeNet5</c>) or any network of
    /// the layer DSL. The trainer puts normalisation and augmentation in front and appends the output layer.
    /// </summary>
    public Network Network { get; set; } = VisionArchitectures.LeNet5();

    /// <summary>The (channels, height, width) of pixel vectors in <see cref="ImageColumnName"/>; default the architecture's. Ignored for images.</summary>
    public int[]? InputShape { get; set; }

    /// <summary>Height images are resized to; default the architecture's (e.g. 224 for ResNet18, 32 for LeNet5). Pixel vectors are not resized.</summary>
    public int? ImageHeight { get; set; }

    /// <summary>Width images are resized to; default the architecture's.</summary>
    public int? ImageWidth { get; set; }

    /// <summary>Image channels fed to the network: 1 (grey) or 3 (RGB); default the architecture's.</summary>
    public int? Channels { get; set; }

    /// <summary>Per-channel mean subtracted from pixels in [0, 1]; default the architecture's (ImageNet's for ImageNet models); null with a custom network: no normalisation.</summary>
    public float[]? Mean { get; set; }

    /// <summary>Per-channel standard deviation, paired with <see cref="Mean"/>.</summary>
    public float[]? Std { get; set; }

    /// <summary>Training-only augmentation (default none).</summary>
    public ImageAugmentation Augmentation { get; set; } = ImageAugmentation.None;

    /// <summary>Per-class loss weights, one per key value in key order, each &gt; 0; null weighs classes equally (default).</summary>
    public float[]? ClassWeights { get; set; }

    /// <summary>Label smoothing ε in [0, 1): targets become (1−ε)·one-hot + ε/K (default 0).</summary>
    public double LabelSmoothing { get; set; }

    internal override ObjectiveSettings Objective => new(ClassWeights: ClassWeights, LabelSmoothing: LabelSmoothing);

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Guard.NotEmpty(ImageColumnName);
        Guard.NotNull(Network);
        NeuralNetworkOptions.ValidateInputShape(InputShape);
        ValidateMulticlass(ClassWeights, LabelSmoothing);
        Guard.NotNull(Augmentation).Validate();
        if (ImageHeight is { } h)
            Guard.Positive(h, nameof(ImageHeight));
        if (ImageWidth is { } w)
            Guard.Positive(w, nameof(ImageWidth));
        if (Channels is { } c && c is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(Channels), c, $"Channels must be 1 (grey) or 3 (RGB). Received: Channels={c}");
        if ((Mean is null) != (Std is null))
            throw new ArgumentException("Mean and Std must be given together.", Mean is null ? nameof(Mean) : nameof(Std));
        if (Std is { } std && std.Any(s => !(s > 0)))
            throw new ArgumentOutOfRangeException(nameof(Std), $"Std values must be positive. Received: Std=[{string.Join(", ", std)}]");
    }

    /// <summary>The zoo contract of the architecture, when <see cref="Network"/> starts with one.</summary>
    internal VisionArchitecture? Contract
        => Network.Layers.Count > 0 && Network.Layers[0] is ArchitectureLayer a
            ? VisionArchitectures.All.FirstOrDefault(v => string.Equals(v.Name, a.Name, StringComparison.OrdinalIgnoreCase))
            : null;
}

using ML.DeepExtensions.Networks;

namespace ML.DeepExtensions.Vision.Classification;

/// <summary>
/// Data augmentation of training batches. Each transformation is a layer at the start of the network that is
/// active only while training (identity when scoring) and draws from the run's seeded generator, so
/// <c>MLContext.Seed</c> fixes it. Zero/false switches a transformation off (the default for all).
/// </summary>
public sealed class ImageAugmentation
{
    /// <summary>No augmentation.</summary>
    public static ImageAugmentation None => new();

    /// <summary>
    /// For photographs of objects and scenes, whose class survives a mirror image (CIFAR, ImageNet-style data): 4-pixel
    /// random crop, <b>horizontal flip</b>, ±10° rotation, 20 % brightness/contrast jitter. Not for digits, letters, text
    /// or signs — a mirrored "2" or "b" is not the same class; use <see cref="Characters"/> there.
    /// </summary>
    public static ImageAugmentation Natural => new() { CropPadding = 4, HorizontalFlip = true, RotationDegrees = 10, Brightness = 0.2, Contrast = 0.2 };

    /// <summary>
    /// For digits, letters, text, signs and anything whose mirror image is another class: 2-pixel random crop, ±10°
    /// rotation, 20 % brightness/contrast jitter, and <b>no flip</b>.
    /// </summary>
    public static ImageAugmentation Characters => new() { CropPadding = 2, RotationDegrees = 10, Brightness = 0.2, Contrast = 0.2 };

    /// <summary>Pad by this many pixels then crop back at a random offset, ≥ 0 (default 0 = off).</summary>
    public int CropPadding { get; set; }

    /// <summary>Mirror left–right with probability ½ (default false).</summary>
    public bool HorizontalFlip { get; set; }

    /// <summary>Rotate by a uniform angle in ±this many degrees, in [0, 180] (default 0 = off).</summary>
    public double RotationDegrees { get; set; }

    /// <summary>Multiply brightness by a factor in [1 − b, 1 + b], in [0, 1] (default 0 = off).</summary>
    public double Brightness { get; set; }

    /// <summary>Scale contrast by a factor in [1 − c, 1 + c], in [0, 1] (default 0 = off).</summary>
    public double Contrast { get; set; }

    /// <summary>Erase a random rectangle with this probability (after normalisation, as torchvision does), in [0, 1] (default 0 = off).</summary>
    public double ErasingProbability { get; set; }

    /// <summary>Whether any transformation is on.</summary>
    public bool IsEnabled => CropPadding > 0 || HorizontalFlip || RotationDegrees > 0 || Brightness > 0 || Contrast > 0 || ErasingProbability > 0;

    /// <summary>The transformations on pixels in [0, 1], before normalisation.</summary>
    internal Network BeforeNormalization(Network network)
    {
        if (Brightness > 0 || Contrast > 0)
            network = network.ColorJitter(Brightness, Contrast);
        if (CropPadding > 0)
            network = network.RandomCrop(CropPadding);
        if (HorizontalFlip)
            network = network.RandomFlip();
        if (RotationDegrees > 0)
            network = network.RandomRotation(RotationDegrees);
        return network;
    }

    /// <summary>The transformations on normalised values.</summary>
    internal Network AfterNormalization(Network network)
        => ErasingProbability > 0 ? network.RandomErasing(ErasingProbability) : network;

    internal void Validate()
    {
        Guard.NonNegative(CropPadding);
        Guard.InRange(RotationDegrees, 0, 180, maxInclusive: true);
        Guard.InRange(Brightness, 0, 1, maxInclusive: true);
        Guard.InRange(Contrast, 0, 1, maxInclusive: true);
        Guard.InRange(ErasingProbability, 0, 1, maxInclusive: true);
    }
}

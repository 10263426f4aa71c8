using ML.DeepExtensions.Networks;

namespace ML.DeepExtensions.Vision;

/// <summary>
/// The image layers in the network DSL: <c>Network.Create().Reshape(3, 32, 32).RandomCrop(4).RandomFlip().Normalize(mean, std)…</c>.
/// Put the random augmentation layers first, right after the Reshape to (channels, height, width), and
/// <see cref="Normalize"/> after them (see <see cref="RandomCropLayer"/>). Each method returns a copy of the network with
/// the layer appended.
/// </summary>
public static class ImageNetworkExtensions
{
    /// <summary>Appends a <see cref="NormalizeLayer"/>: per-channel (x − mean) / std, in training and scoring.</summary>
    /// <param name="network">The network to extend.</param>
    /// <param name="mean">One finite mean per channel, or one value for every channel.</param>
    /// <param name="std">One positive finite standard deviation per channel, or one value for every channel.</param>
    public static Network Normalize(this Network network, float[] mean, float[] std) => Guard.NotNull(network).Add(new NormalizeLayer(mean, std));

    /// <summary>Appends a <see cref="RandomCropLayer"/> (training only): pad, then crop back at a random offset.</summary>
    /// <param name="network">The network to extend.</param>
    /// <param name="padding">Pixels added on each side, ≥ 0.</param>
    /// <param name="paddingMode">What the padding holds (default <see cref="ImagePaddingMode.Zeros"/>).</param>
    public static Network RandomCrop(this Network network, int padding, ImagePaddingMode paddingMode = ImagePaddingMode.Zeros)
        => Guard.NotNull(network).Add(new RandomCropLayer(padding, paddingMode));

    /// <summary>Appends a <see cref="RandomFlipLayer"/> (training only).</summary>
    /// <param name="network">The network to extend.</param>
    /// <param name="horizontal">Mirror left-right (default true).</param>
    /// <param name="vertical">Mirror top-bottom (default false).</param>
    /// <param name="probability">Chance of each enabled flip per example, in [0, 1] (default 0.5).</param>
    public static Network RandomFlip(this Network network, bool horizontal = true, bool vertical = false, double probability = 0.5)
        => Guard.NotNull(network).Add(new RandomFlipLayer(horizontal, vertical, probability));

    /// <summary>Appends a <see cref="RandomRotationLayer"/> (training only): a uniform angle in ±<paramref name="maxDegrees"/>.</summary>
    /// <param name="network">The network to extend.</param>
    /// <param name="maxDegrees">Largest rotation in degrees, in [0, 180].</param>
    public static Network RandomRotation(this Network network, double maxDegrees) => Guard.NotNull(network).Add(new RandomRotationLayer(maxDegrees));

    /// <summary>Appends a <see cref="ColorJitterLayer"/> (training only): random brightness and contrast.</summary>
    /// <param name="network">The network to extend.</param>
    /// <param name="brightness">Brightness jitter in [0, 1].</param>
    /// <param name="contrast">Contrast jitter in [0, 1] (default 0).</param>
    public static Network ColorJitter(this Network network, double brightness, double contrast = 0)
        => Guard.NotNull(network).Add(new ColorJitterLayer(brightness, contrast));

    /// <summary>Appends a <see cref="RandomErasingLayer"/> (training only): zeroes a random rectangle.</summary>
    /// <param name="network">The network to extend.</param>
    /// <param name="probability">Chance of erasing per example, in [0, 1] (default 0.5).</param>
    /// <param name="minScale">Smallest erased fraction of the area, in (0, 1] (default 0.02).</param>
    /// <param name="maxScale">Largest erased fraction of the area, in [minScale, 1] (default 0.33).</param>
    /// <param name="minRatio">Smallest height/width ratio, &gt; 0 (default 0.3).</param>
    /// <param name="maxRatio">Largest height/width ratio, ≥ minRatio (default 3.3).</param>
    public static Network RandomErasing(this Network network, double probability = 0.5, double minScale = 0.02, double maxScale = 0.33, double minRatio = 0.3, double maxRatio = 3.3)
        => Guard.NotNull(network).Add(new RandomErasingLayer(probability, minScale, maxScale, minRatio, maxRatio));
}

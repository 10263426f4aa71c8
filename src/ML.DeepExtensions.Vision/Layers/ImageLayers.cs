using System;
using System.Globalization;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision;

// Image preprocessing and augmentation layers, Keras-style: they are part of the network, so the same
// description is applied in training and scoring, saved in the model zip and rebuilt on load.
//
// Where they go: at the start of the network body, right after the Reshape to (channels, height, width),
// with the random augmentation layers FIRST and NormalizeLayer AFTER them. Augmentations then act on raw
// pixel values, which is what their parameters mean: the zeros that crop padding, rotation corners and
// erased rectangles bring in are black pixels (the background of the image, as in torchvision, where
// RandomCrop/RandomRotation run on raw images), and brightness multiplies intensities rather than
// standardized values (multiplying a zero-mean value would darken and brighten pixels at once).
// Normalization last means the convolution layers see the same distribution in training and scoring.

/// <summary>Which values <see cref="RandomCropLayer"/> pads the image with before cropping.</summary>
public enum ImagePaddingMode
{
    /// <summary>Zeros (black for raw pixel values).</summary>
    Zeros,
    /// <summary>Mirror of the image without repeating the edge pixel (<c>dcb|abcd|cba</c>); padding must be smaller than height and width.</summary>
    Reflect,
}

/// <summary>
/// Per-channel standardization <c>(x − mean) / std</c> of images <c>(channels, height, width)</c> (any
/// channels-first shape works). Applied always, in training and in scoring, so the normalization a model was
/// trained with is saved with it. Place it after the augmentation layers (see <see cref="RandomCropLayer"/>).
/// </summary>
public sealed class NormalizeLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="mean">One finite mean per channel, or one value for every channel.</param>
    /// <param name="std">One positive finite standard deviation per channel, or one value for every channel.</param>
    public NormalizeLayer(float[] mean, float[] std)
    {
        Mean = CheckValues(mean, nameof(mean), positive: false);
        Std = CheckValues(std, nameof(std), positive: true);
    }

    /// <summary>Per-channel means (one value broadcasts to every channel).</summary>
    public float[] Mean { get; }

    /// <summary>Per-channel standard deviations (one value broadcasts to every channel).</summary>
    public float[] Std { get; }

    /// <inheritdoc />
    public override string ToString() => $"Normalize(mean {ImageLayerText.List(Mean)}, std {ImageLayerText.List(Std)})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        if (input.Length < 1)
            throw ShapeError(index, input, "(channels, height, width)");
        var channels = input[0];
        if ((Mean.Length != 1 && Mean.Length != channels) || (Std.Length != 1 && Std.Length != channels))
            throw ShapeError(index, input, $"{Math.Max(Mean.Length, Std.Length)} channels first, to match mean {ImageLayerText.List(Mean)} and std {ImageLayerText.List(Std)}");
        return Shape.Copy(input);
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new NormalizeModule(Mean, Std);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        // Per-channel constants shaped (values, 1, …) broadcast over (batch, channels, …), as NormalizeModule does.
        var dims = new long[context.InputShape.Count];
        Array.Fill(dims, 1L);
        dims[0] = Mean.Length;
        var centered = context.Node("Sub", [context.Input, context.Constant(Mean, dims)]);
        dims[0] = Std.Length;
        return context.Node("Div", [centered, context.Constant(Std, dims)]);
    }

    private static float[] CheckValues(float[] values, string name, bool positive)
    {
        Guard.NotNull(values, name);
        if (values.Length == 0)
            throw new ArgumentException($"{name} must have one value per channel (or one for all). Received: {name}=[]", name);
        var bad = values.Any(v => !float.IsFinite(v) || (positive && v <= 0));
        if (bad)
        {
            var expected = positive ? "positive finite numbers" : "finite numbers";
            throw new ArgumentOutOfRangeException(name, $"{name} must be {expected}. Received: {name}={ImageLayerText.List(values)}");
        }
        return (float[])values.Clone();
    }
}

/// <summary>
/// Random translation: pads each image <c>(channels, height, width)</c> by <see cref="Padding"/> pixels on
/// every side, then crops back to the original size at an offset drawn uniformly per example (like
/// torchvision's <c>RandomCrop(size, padding)</c>). Active only in training; the identity when scoring.
/// Draws from the training run's seeded generator, so the seed fixes it.
/// </summary>
/// <remarks>
/// Augmentation layers belong at the start of the network body, right after the Reshape to
/// (channels, height, width) and before <see cref="NormalizeLayer"/>: they then act on raw pixels, so padded
/// zeros are black background and brightness multiplies intensities; the network sees normalized values in
/// training and scoring alike.
/// </remarks>
public sealed class RandomCropLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="padding">Pixels added on each side, ≥ 0; the crop moves by up to this many pixels in each direction.</param>
    /// <param name="paddingMode">What the padding holds (default <see cref="ImagePaddingMode.Zeros"/>).</param>
    public RandomCropLayer(int padding, ImagePaddingMode paddingMode = ImagePaddingMode.Zeros)
    {
        Padding = Guard.NonNegative(padding);
        if (!Enum.IsDefined(paddingMode))
            throw new ArgumentOutOfRangeException(nameof(paddingMode), paddingMode, $"paddingMode must be Zeros or Reflect. Received: paddingMode={paddingMode}");
        PaddingMode = paddingMode;
    }

    /// <summary>Pixels added on each side before cropping.</summary>
    public int Padding { get; }

    /// <summary>What the padding holds.</summary>
    public ImagePaddingMode PaddingMode { get; }

    /// <inheritdoc />
    public override string ToString() => $"RandomCrop(padding {Padding}, {PaddingMode})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        ImageLayerText.RequireImage(this, input, index);
        if (PaddingMode == ImagePaddingMode.Reflect && (Padding >= input[1] || Padding >= input[2]))
            throw ShapeError(index, input, $"height and width larger than the reflect padding {Padding}");
        return Shape.Copy(input);
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new RandomCropModule(Padding, PaddingMode, context.Generator);

    /// <inheritdoc />
    /// <remarks>Augmentation is active only in training: the identity in the exported graph.</remarks>
    public override string ToOnnx(OnnxLoweringContext context) => Guard.NotNull(context).Node("Identity", [context.Input]);
}

/// <summary>
/// Mirrors each image <c>(channels, height, width)</c> left-right and/or top-bottom, each direction
/// independently with probability <see cref="Probability"/> per example. Active only in training; the
/// identity when scoring. Seeded by the training run. Put it at the start of the network body, before
/// <see cref="NormalizeLayer"/> (see <see cref="RandomCropLayer"/>).
/// </summary>
public sealed class RandomFlipLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="horizontal">Mirror left-right (default true).</param>
    /// <param name="vertical">Mirror top-bottom (default false). At least one direction must be on.</param>
    /// <param name="probability">Chance of each enabled flip per example, in [0, 1] (default 0.5).</param>
    public RandomFlipLayer(bool horizontal = true, bool vertical = false, double probability = 0.5)
    {
        if (!horizontal && !vertical)
            throw new ArgumentException("RandomFlip needs at least one direction: horizontal or vertical must be true. Received: horizontal=False, vertical=False", nameof(horizontal));
        Horizontal = horizontal;
        Vertical = vertical;
        Probability = Guard.InRange(probability, 0, 1, maxInclusive: true);
    }

    /// <summary>Whether images are mirrored left-right.</summary>
    public bool Horizontal { get; }

    /// <summary>Whether images are mirrored top-bottom.</summary>
    public bool Vertical { get; }

    /// <summary>Chance of each enabled flip per example.</summary>
    public double Probability { get; }

    /// <inheritdoc />
    public override string ToString()
        => ImageLayerText.Invariant($"RandomFlip({(Horizontal && Vertical ? "horizontal and vertical" : Horizontal ? "horizontal" : "vertical")}, p {Probability})");

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index) => ImageLayerText.RequireImage(this, input, index);

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new RandomFlipModule(Horizontal, Vertical, Probability, context.Generator);

    /// <inheritdoc />
    /// <remarks>Augmentation is active only in training: the identity in the exported graph.</remarks>
    public override string ToOnnx(OnnxLoweringContext context) => Guard.NotNull(context).Node("Identity", [context.Input]);
}

/// <summary>
/// Rotates each image <c>(channels, height, width)</c> about its centre by an angle drawn uniformly in
/// [−<see cref="MaxDegrees"/>, +<see cref="MaxDegrees"/>] per example (positive = counter-clockwise),
/// with bilinear interpolation; corners that come from outside the image are zeros. Active only in training;
/// the identity when scoring. Seeded by the training run. Put it at the start of the network body, before
/// <see cref="NormalizeLayer"/> (see <see cref="RandomCropLayer"/>).
/// </summary>
public sealed class RandomRotationLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="maxDegrees">Largest rotation in degrees, in [0, 180]; 0 makes the layer the identity.</param>
    public RandomRotationLayer(double maxDegrees) => MaxDegrees = Guard.InRange(maxDegrees, 0, 180, maxInclusive: true);

    /// <summary>Largest rotation in degrees.</summary>
    public double MaxDegrees { get; }

    /// <inheritdoc />
    public override string ToString() => ImageLayerText.Invariant($"RandomRotation(±{MaxDegrees}°)");

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index) => ImageLayerText.RequireImage(this, input, index);

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new RandomRotationModule(MaxDegrees, context.Generator);

    /// <inheritdoc />
    /// <remarks>Augmentation is active only in training: the identity in the exported graph.</remarks>
    public override string ToOnnx(OnnxLoweringContext context) => Guard.NotNull(context).Node("Identity", [context.Input]);
}

/// <summary>
/// Random brightness and contrast per example, on images <c>(channels, height, width)</c>: the image is
/// multiplied by a brightness factor drawn uniformly in [1 − <see cref="Brightness"/>, 1 + <see cref="Brightness"/>],
/// then blended with its own mean (over channels and pixels) by a contrast factor drawn in
/// [1 − <see cref="Contrast"/>, 1 + <see cref="Contrast"/>]: <c>mean + c·(x − mean)</c>. Values are not clipped,
/// since the layer does not know the pixel range. Active only in training; the identity when scoring. Seeded
/// by the training run. Put it before <see cref="NormalizeLayer"/>, on raw intensities (see <see cref="RandomCropLayer"/>).
/// </summary>
public sealed class ColorJitterLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="brightness">Brightness jitter in [0, 1] (0 = none).</param>
    /// <param name="contrast">Contrast jitter in [0, 1] (0 = none, default).</param>
    public ColorJitterLayer(double brightness, double contrast = 0)
    {
        Brightness = Guard.InRange(brightness, 0, 1, maxInclusive: true);
        Contrast = Guard.InRange(contrast, 0, 1, maxInclusive: true);
    }

    /// <summary>Brightness jitter: the factor is uniform in [1 − brightness, 1 + brightness].</summary>
    public double Brightness { get; }

    /// <summary>Contrast jitter: the factor is uniform in [1 − contrast, 1 + contrast].</summary>
    public double Contrast { get; }

    /// <inheritdoc />
    public override string ToString() => ImageLayerText.Invariant($"ColorJitter(brightness {Brightness}, contrast {Contrast})");

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index) => ImageLayerText.RequireImage(this, input, index);

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new ColorJitterModule(Brightness, Contrast, context.Generator);

    /// <inheritdoc />
    /// <remarks>Augmentation is active only in training: the identity in the exported graph.</remarks>
    public override string ToOnnx(OnnxLoweringContext context) => Guard.NotNull(context).Node("Identity", [context.Input]);
}

/// <summary>
/// Random erasing (Zhong et al. 2017, torchvision's <c>RandomErasing</c> with value 0): with probability
/// <see cref="Probability"/> per example, a rectangle whose area is a fraction of the image drawn in
/// [<see cref="MinScale"/>, <see cref="MaxScale"/>] and whose height/width ratio is drawn log-uniformly in
/// [<see cref="MinRatio"/>, <see cref="MaxRatio"/>] is set to zero in every channel, at a uniform position.
/// As in torchvision, up to 10 draws look for a rectangle that fits; if none fits the image is left unchanged.
/// Active only in training; the identity when scoring. Seeded by the training run. Put it at the start of
/// the network body, before <see cref="NormalizeLayer"/> (see <see cref="RandomCropLayer"/>).
/// </summary>
public sealed class RandomErasingLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="probability">Chance of erasing per example, in [0, 1] (default 0.5).</param>
    /// <param name="minScale">Smallest erased fraction of the area, in (0, 1] (default 0.02).</param>
    /// <param name="maxScale">Largest erased fraction of the area, in [minScale, 1] (default 0.33).</param>
    /// <param name="minRatio">Smallest height/width ratio, &gt; 0 (default 0.3).</param>
    /// <param name="maxRatio">Largest height/width ratio, ≥ minRatio (default 3.3).</param>
    public RandomErasingLayer(double probability = 0.5, double minScale = 0.02, double maxScale = 0.33, double minRatio = 0.3, double maxRatio = 3.3)
    {
        Probability = Guard.InRange(probability, 0, 1, maxInclusive: true);
        MinScale = Guard.InRange(minScale, double.Epsilon, 1, maxInclusive: true);
        MaxScale = Guard.InRange(maxScale, double.Epsilon, 1, maxInclusive: true);
        MinRatio = Guard.Positive(minRatio);
        MaxRatio = Guard.Positive(maxRatio);
        if (minScale > maxScale)
            throw new ArgumentException(ImageLayerText.Invariant($"minScale must not exceed maxScale. Received: minScale={minScale}, maxScale={maxScale}"), nameof(minScale));
        if (minRatio > maxRatio)
            throw new ArgumentException(ImageLayerText.Invariant($"minRatio must not exceed maxRatio. Received: minRatio={minRatio}, maxRatio={maxRatio}"), nameof(minRatio));
    }

    /// <summary>Chance of erasing per example.</summary>
    public double Probability { get; }

    /// <summary>Smallest erased fraction of the area.</summary>
    public double MinScale { get; }

    /// <summary>Largest erased fraction of the area.</summary>
    public double MaxScale { get; }

    /// <summary>Smallest height/width ratio of the rectangle.</summary>
    public double MinRatio { get; }

    /// <summary>Largest height/width ratio of the rectangle.</summary>
    public double MaxRatio { get; }

    /// <inheritdoc />
    public override string ToString()
        => ImageLayerText.Invariant($"RandomErasing(p {Probability}, scale {MinScale}–{MaxScale}, ratio {MinRatio}–{MaxRatio})");

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index) => ImageLayerText.RequireImage(this, input, index);

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new RandomErasingModule(Probability, MinScale, MaxScale, MinRatio, MaxRatio, context.Generator);

    /// <inheritdoc />
    /// <remarks>Augmentation is active only in training: the identity in the exported graph.</remarks>
    public override string ToOnnx(OnnxLoweringContext context) => Guard.NotNull(context).Node("Identity", [context.Input]);
}

internal static class ImageLayerText
{
    public static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    public static string List(float[] values)
        => "[" + string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";

    /// <summary>Checks an image shape (channels, height, width) and returns a copy of it as the output shape.</summary>
    public static int[] RequireImage(Layer layer, int[] input, int index)
        => input.Length == 3 ? Shape.Copy(input) : throw new NetworkShapeException(index, layer, input, "(channels, height, width); add Reshape(channels, height, width) before it");
}

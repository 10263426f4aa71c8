using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision;

// TorchSharp modules behind the image layers of ImageLayers.cs. Inputs are (batch, channels, height, width).
// Random layers are the identity unless the module is in training mode, and draw every random number from
// the run's generator (a CPU generator, like SeededDropoutModule's): the few numbers per example are drawn
// on the CPU and moved to the input's device, where the per-pixel work happens, vectorised over the batch.

/// <summary>Per-channel (x − mean) / std, in training and scoring alike.</summary>
internal sealed class NormalizeModule : nn.Module<Tensor, Tensor>
{
    private readonly float[] _mean;
    private readonly float[] _std;

    public NormalizeModule(float[] mean, float[] std) : base("Normalize")
    {
        _mean = mean;
        _std = std;
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var mean = Broadcastable(_mean, input);
        var std = Broadcastable(_std, input);
        return input.sub(mean).div_(std).MoveToOuterDisposeScope();
    }

    /// <summary>The values as a (1, values, 1, …) tensor on the input's device and type.</summary>
    private static Tensor Broadcastable(float[] values, Tensor input)
    {
        var shape = Enumerable.Repeat(1L, (int)input.dim()).ToArray();
        shape[1] = values.Length;
        return torch.tensor(values, device: input.device).to(input.dtype).view(shape);
    }
}

/// <summary>Shared plumbing of the random image modules.</summary>
internal abstract class RandomImageModule : nn.Module<Tensor, Tensor>
{
    private readonly Generator _generator;

    protected RandomImageModule(string name, Generator generator) : base(name) => _generator = generator;

    /// <summary>Whether the module changes anything at all with its parameters (false: always the identity).</summary>
    protected abstract bool IsActive { get; }

    public sealed override Tensor forward(Tensor input)
    {
        if (!training || !IsActive)
            return input.alias();
        if (input.dim() != 4)
            throw new ArgumentException($"{GetName()} expects input (batch, channels, height, width); received a tensor of shape ({string.Join(", ", input.shape)}).", nameof(input));
        using var scope = torch.NewDisposeScope();
        return Augment(input).MoveToOuterDisposeScope();
    }

    /// <summary>The augmented batch; runs inside a dispose scope, so temporaries need no disposing.</summary>
    protected abstract Tensor Augment(Tensor input);

    /// <summary>Uniform [0, 1) numbers of <paramref name="shape"/> from the run's generator, on the CPU.</summary>
    protected Tensor Uniform(params long[] shape) => torch.rand(shape, dtype: ScalarType.Float32, generator: _generator);

    /// <summary>Uniform [0, 1) doubles of <paramref name="shape"/> from the run's generator, on the CPU.</summary>
    protected Tensor UniformDouble(params long[] shape) => torch.rand(shape, dtype: ScalarType.Float64, generator: _generator);

    /// <summary>Per-example values <c>1 ± amount</c>, uniform, shaped (batch, 1, 1, 1) on the input's device and type.</summary>
    protected Tensor Factors(Tensor input, double amount)
        => Uniform(input.shape[0]).mul_(2).sub_(1).mul_(amount).add_(1).to(input.dtype).to(input.device).view(-1, 1, 1, 1);
}

/// <summary>Pads by <c>padding</c> and crops back at a uniform offset per example, with two gathers (no loops).</summary>
internal sealed class RandomCropModule : RandomImageModule
{
    private readonly int _padding;
    private readonly ImagePaddingMode _mode;

    public RandomCropModule(int padding, ImagePaddingMode mode, Generator generator) : base("RandomCrop", generator)
    {
        _padding = padding;
        _mode = mode;
    }

    protected override bool IsActive => _padding > 0;

    protected override Tensor Augment(Tensor input)
    {
        long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3], p = _padding;
        var padded = nn.functional.pad(input, [p, p, p, p], _mode == ImagePaddingMode.Reflect ? PaddingModes.Reflect : PaddingModes.Constant, 0);
        // Offsets in [0, 2p] for rows and columns: floor(u·(2p+1)), clamped against float rounding up to 2p+1.
        var offsets = Uniform(2, n).mul_(2 * p + 1).floor_().clamp_max_(2 * p).to(ScalarType.Int64).to(input.device);
        var rows = offsets[0].unsqueeze(1).add(torch.arange(h, ScalarType.Int64, input.device));   // (n, h)
        var cols = offsets[1].unsqueeze(1).add(torch.arange(w, ScalarType.Int64, input.device));   // (n, w)
        var band = padded.gather(2, rows.view(n, 1, h, 1).expand(n, c, h, w + 2 * p));              // (n, c, h, w + 2p)
        return band.gather(3, cols.view(n, 1, 1, w).expand(n, c, h, w));
    }
}

/// <summary>Left-right and/or top-bottom mirror, each with its own coin per example.</summary>
internal sealed class RandomFlipModule : RandomImageModule
{
    private readonly bool _horizontal;
    private readonly bool _vertical;
    private readonly double _probability;

    public RandomFlipModule(bool horizontal, bool vertical, double probability, Generator generator) : base("RandomFlip", generator)
    {
        _horizontal = horizontal;
        _vertical = vertical;
        _probability = probability;
    }

    protected override bool IsActive => _probability > 0;

    protected override Tensor Augment(Tensor input)
    {
        var result = input;
        if (_horizontal)
            result = Flip(result, 3);
        if (_vertical)
            result = Flip(result, 2);
        return ReferenceEquals(result, input) ? input.alias() : result;
    }

    private Tensor Flip(Tensor input, long dimension)
    {
        var flip = Uniform(input.shape[0]).lt(_probability).to(input.device).view(-1, 1, 1, 1);
        return torch.where(flip, input.flip(dimension), input);
    }
}

/// <summary>Rotation about the centre by a uniform angle per example: affine_grid + bilinear grid_sample, zeros outside.</summary>
internal sealed class RandomRotationModule : RandomImageModule
{
    private readonly double _maxDegrees;

    public RandomRotationModule(double maxDegrees, Generator generator) : base("RandomRotation", generator) => _maxDegrees = maxDegrees;

    protected override bool IsActive => _maxDegrees > 0;

    protected override Tensor Augment(Tensor input)
        => Rotate(input, Uniform(input.shape[0]).mul_(2).sub_(1).mul_(_maxDegrees));

    /// <summary>Rotates example i by <paramref name="degrees"/>[i] counter-clockwise (as <c>torch.rot90</c> over (height, width)).</summary>
    internal static Tensor Rotate(Tensor input, Tensor degrees)
    {
        using var scope = torch.NewDisposeScope();
        long n = input.shape[0], h = input.shape[2], w = input.shape[3];
        var radians = degrees.to(ScalarType.Float64).mul(Math.PI / 180);
        var cos = radians.cos();
        var sin = radians.sin();
        var zero = torch.zeros_like(cos);
        // For each output position, where to sample in the input. In normalised coordinates (x right, y down,
        // both in [−1, 1]) a pixel-space rotation needs the aspect ratio: xs = cos·x − sin·(h/w)·y, ys = sin·(w/h)·x + cos·y.
        var theta = torch.stack([cos, sin.mul(-(double)h / w), zero, sin.mul((double)w / h), cos, zero], 1)
            .view(n, 2, 3).to(input.dtype).to(input.device);
        var grid = nn.functional.affine_grid(theta, [n, input.shape[1], h, w], align_corners: false);
        return nn.functional.grid_sample(input, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false)
            .MoveToOuterDisposeScope();
    }
}

/// <summary>Brightness factor multiplies, then the contrast factor scales the distance to the per-image mean.</summary>
internal sealed class ColorJitterModule : RandomImageModule
{
    private readonly double _brightness;
    private readonly double _contrast;

    public ColorJitterModule(double brightness, double contrast, Generator generator) : base("ColorJitter", generator)
    {
        _brightness = brightness;
        _contrast = contrast;
    }

    protected override bool IsActive => _brightness > 0 || _contrast > 0;

    protected override Tensor Augment(Tensor input)
    {
        var result = input;
        if (_brightness > 0)
            result = result.mul(Factors(input, _brightness));
        if (_contrast > 0)
        {
            var mean = result.mean([1, 2, 3], keepdim: true);
            result = result.sub(mean).mul_(Factors(input, _contrast)).add_(mean);
        }
        return result;
    }
}

/// <summary>torchvision's RandomErasing (value 0), vectorised: 10 candidate rectangles per example, the first that fits wins.</summary>
internal sealed class RandomErasingModule : RandomImageModule
{
    private const int Attempts = 10;
    private readonly double _probability;
    private readonly double _minScale;
    private readonly double _maxScale;
    private readonly double _minRatio;
    private readonly double _maxRatio;

    public RandomErasingModule(double probability, double minScale, double maxScale, double minRatio, double maxRatio, Generator generator)
        : base("RandomErasing", generator)
    {
        _probability = probability;
        _minScale = minScale;
        _maxScale = maxScale;
        _minRatio = minRatio;
        _maxRatio = maxRatio;
    }

    protected override bool IsActive => _probability > 0;

    protected override Tensor Augment(Tensor input)
    {
        long n = input.shape[0], h = input.shape[2], w = input.shape[3];
        var erase = Uniform(n).lt(_probability);
        // Per example and attempt: area fraction, log aspect ratio, and the two position draws (CPU, float64).
        var draws = UniformDouble(4, n, Attempts);
        var area = draws[0].mul(_maxScale - _minScale).add_(_minScale).mul_(h * w);
        var ratio = draws[1].mul(Math.Log(_maxRatio) - Math.Log(_minRatio)).add_(Math.Log(_minRatio)).exp_();
        var heights = area.mul(ratio).sqrt_().round_();
        var widths = area.div(ratio).sqrt_().round_();
        var fits = heights.lt(h).logical_and_(widths.lt(w));
        var first = fits.to(ScalarType.Int32).argmax(1, keepdim: true);   // first attempt that fits (0 if none)
        erase = erase.logical_and_(fits.any(1));
        var height = heights.gather(1, first).squeeze(1);
        var width = widths.gather(1, first).squeeze(1);
        // Positions uniform in [0, size − side], as torch.randint(0, size − side + 1).
        var top = draws[2].gather(1, first).squeeze(1).mul_(height.neg().add_(h + 1)).floor_();
        var left = draws[3].gather(1, first).squeeze(1).mul_(width.neg().add_(w + 1)).floor_();

        Tensor OnDevice(Tensor t) => t.to(ScalarType.Int64).to(input.device).unsqueeze(1);
        var rows = torch.arange(h, ScalarType.Int64, input.device).unsqueeze(0);
        var cols = torch.arange(w, ScalarType.Int64, input.device).unsqueeze(0);
        var topD = OnDevice(top);
        var leftD = OnDevice(left);
        var inRows = rows.ge(topD).logical_and_(rows.lt(topD.add(OnDevice(height))));     // (n, h)
        var inCols = cols.ge(leftD).logical_and_(cols.lt(leftD.add(OnDevice(width))));    // (n, w)
        var mask = inRows.unsqueeze(2).logical_and(inCols.unsqueeze(1))
            .logical_and_(erase.to(input.device).view(-1, 1, 1))
            .unsqueeze(1);                                                                  // (n, 1, h, w)
        return input.masked_fill(mask, 0);
    }
}

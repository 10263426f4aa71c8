using System;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// Batch normalisation over (N, C), (N, C, L) or (N, C, H, W) inputs: TorchSharp's <c>BatchNorm1d</c>/<c>BatchNorm2d</c>
/// arithmetic, parameters and state-dict names (<c>weight</c>, <c>bias</c>, <c>running_mean</c>, <c>running_var</c>,
/// <c>num_batches_tracked</c>), without their one hazard: TorchSharp's forward counts batches with
/// <c>num_batches_tracked.add_(1)</c>, whose implicit <see cref="Scalar"/> temporaries the garbage collector may finalize
/// while the native call still reads them — a rare, non-deterministic native error ("Expected false to be true" in c10
/// <c>Scalar::toLong</c>) seen in long detection trainings. Here the count is added from a tensor that lives as long as
/// the module, with an <c>alpha</c> the module holds too (TorchSharp's one-argument <c>add_</c> would pass a temporary
/// one). Every network's batch norm goes through <see cref="Create"/>. On Linux x64 <see cref="Runtime.ScalarQuarantine"/> covers
/// every scalar of the process; this module's own guard stays for the platforms without it.
/// </summary>
internal sealed class StableBatchNorm : TorchSharp.Modules.BatchNorm
{
    private readonly int _dimensions;
    private readonly Tensor _one;
    private readonly Scalar _alpha;

    private StableBatchNorm(long features, int dimensions, double eps, double momentum)
        : base(features, eps, momentum, affine: true, track_running_stats: true, device: null, dtype: null, name: $"BatchNorm{dimensions}d")
    {
        _dimensions = dimensions;
        // Not a registered buffer: it is not state, only the constant the batch count grows by.
        // A 0-dimensional CPU tensor adds to a count on any device, as a scalar does.
        _one = torch.ones([], ScalarType.Int64).DetachFromDisposeScope();
        _alpha = 1L.ToScalar();
    }

    /// <summary>A batch norm for inputs with <paramref name="dimensions"/> = 1 ((N, C) or (N, C, L)) or 2 ((N, C, H, W)) trailing feature axes.</summary>
    public static StableBatchNorm Create(long features, int dimensions, double eps = 1e-5, double momentum = 0.1)
        => dimensions is 1 or 2 ? new StableBatchNorm(features, dimensions, eps, momentum) : throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "Expected 1 or 2.");

    /// <inheritdoc />
    protected override void ValidateInputDimensions(Tensor input)
    {
        var valid = _dimensions == 2 ? input.dim() == 4 : input.dim() is 2 or 3;
        if (!valid)
            throw new ArgumentException($"BatchNorm{_dimensions}d expects {(_dimensions == 2 ? "4" : "2 or 3")} dimensions; received {input.dim()}.");
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        ValidateInputDimensions(input);
        if (training && num_batches_tracked is { } tracked)
            tracked.add_(_one, _alpha);
        // Create always sets a momentum (PyTorch's cumulative average, momentum None, is not offered).
        return nn.functional.batch_norm(input, running_mean, running_var, weight, bias, training, momentum!.Value, eps);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _one.Dispose();
            _alpha.Dispose();
        }
        base.Dispose(disposing);
    }
}

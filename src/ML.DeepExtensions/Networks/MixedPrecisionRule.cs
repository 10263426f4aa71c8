using System;
using System.Linq;
using ML.DeepExtensions.Runtime;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// Which dense and convolution layers of a network run in float32 inside a mixed-precision training step on the CPU
/// (<see cref="Training.TrainingPrecision.MixedBFloat16"/>): the ones bfloat16 makes slower. libtorch's autocast casts every
/// matrix product and convolution whatever its size; measured on an AVX512_BF16 Zen 4 (libtorch 2.10, oneDNN 3.x, one
/// thread, forward + backward, float32 time / bfloat16 time):
/// <list type="bullet">
/// <item>Small products lose to the casts and oneDNN's fixed costs: linear 32×768→2 0.38×, 256×256→1 0.34×, 64×120→84
/// 0.46×, 256×256→10 0.84×, 2048×32→32 0.72×; from about 3 million multiply-adds on they gain (64×400→120 1.03×,
/// 1024×64→64 1.13×, 256×100→256 1.29×, 4096×128→10 2.57×). Convolutions likewise (1→16 channels, 3×3 over 8×8 at b32,
/// 0.3 million: 0.88×; 16→16, 4.7 million: 1.27×).</item>
/// <item>oneDNN has no bfloat16 kernel for the weight gradient of a convolution with fewer than 16 input channels and a
/// filter count that is not a multiple of 16, and falls back to a GEMM (<c>ONEDNN_VERBOSE</c>:
/// <c>x64:gemm:jit</c>, <c>backward_weights</c>): LeNet-5's first convolution (1→6, 5×5 over 28×28 at b64) took 3.9× its
/// float32 time, 1→8, 1→12, 1→24, 3→6 and 6→6 1.1–6.7×, while 1→16, 1→32, 3→16, 6→16 and 16→8 ran oneDNN's bfloat16
/// kernel and gained. (Grouped convolutions were not measured; only the size rule applies to them.)</item>
/// </list>
/// So a layer stays float32 when one call does fewer than <see cref="MinimumMultiplyAdds"/> multiply-adds or it is such a
/// convolution; its input is cast back to float32 when the layer before ran in bfloat16. LeNet-5 at b64 then runs its
/// second convolution in bfloat16 and the rest in float32. The rule is for CPU autocast only: CUDA's autocast and float32
/// training are untouched, and a layer's weights are float32 either way.
/// </summary>
internal sealed class MixedPrecisionRule
{
    /// <summary>Below this many multiply-adds per call a layer runs in float32 inside a mixed-precision step.</summary>
    public const long MinimumMultiplyAdds = 3_000_000;

    private static readonly FlowOverride<bool> Forced = new();

    private readonly long _multiplyAddsPerExample;
    private readonly bool _alwaysFloat32;

    private MixedPrecisionRule(long multiplyAddsPerExample, bool alwaysFloat32)
    {
        _multiplyAddsPerExample = multiplyAddsPerExample;
        _alwaysFloat32 = alwaysFloat32;
    }

    /// <summary>
    /// The rule for <paramref name="layer"/> with examples of shape <paramref name="input"/> → <paramref name="output"/>
    /// (batch excluded), or null for layer kinds it does not judge (autocast decides alone).
    /// </summary>
    public static MixedPrecisionRule? For(Layer layer, int[] input, int[] output) => layer switch
    {
        // A dense layer multiplies every leading position (a sequence's steps) by its weight matrix.
        DenseLayer dense => new(Product(input) * dense.Units, alwaysFloat32: false),
        ConvolutionLayer conv => new(
            Product(output) * (input[0] / conv.Groups) * (long)Math.Pow(conv.KernelSize, conv.Dimensions),
            alwaysFloat32: conv.Groups == 1 && input[0] < 16 && conv.Filters % 16 != 0),
        _ => null,
    };

    /// <summary>
    /// Whether the layer runs in float32 for <paramref name="input"/> (batch first) inside a mixed-precision step.
    /// </summary>
    public bool KeepsFloat32(Tensor input)
        => Forced.Value ?? (_alwaysFloat32 || input.shape[0] * _multiplyAddsPerExample < MinimumMultiplyAdds);

    /// <summary>
    /// Overrides the rule for the calling flow until disposed: false lets autocast cast every layer (the kernels' own
    /// tests, the benchmark's <c>--autocast-every-layer</c> A/B), true keeps every judged layer float32, null restores it.
    /// </summary>
    internal static IDisposable Force(bool? keepFloat32) => Forced.Set(keepFloat32);

    private static long Product(int[] shape) => shape.Aggregate(1L, (a, b) => a * b);
}

using System;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>
/// libtorch sends float32 convolutions and no-grad LSTM passes to oneDNN, at the ISA the runtime left it (capped on AMD
/// Zen 5 with AVX-512, oneDNN's own choice elsewhere, see <c>OneDnnIsaCap</c>); float64 takes ATen's own kernels. On the
/// Zen 5 VM oneDNN's AVX-512 kernels were ~1e-2 off: these tests compare the two in whatever process the suite runs, so a
/// CPU or an ISA ceiling (<c>ONEDNN_MAX_CPU_ISA</c>) under which oneDNN computes wrong results fails here. The largest
/// error measured on correct CPUs is ~1e-5 of the reference's largest magnitude (AVX through AVX-512, 2026-12-03).
/// </summary>
public sealed class OneDnnKernelAccuracyTests
{
    private const double Tolerance = 1e-4;

    /// <summary>Asserts the largest absolute difference over the reference's largest magnitude is below <see cref="Tolerance"/>.</summary>
    private static void AssertClose(Tensor actual, Tensor reference, string what)
    {
        var error = (actual.to(float64) - reference).abs().max().item<double>() / Math.Max(1e-12, reference.abs().max().item<double>());
        Assert.True(error < Tolerance, $"{what} off by {error:E2}");
    }

    [Theory]
    [InlineData(16, 1, 28, 6, 5, 1, 2)]    // LeNet-5's first layer
    [InlineData(8, 6, 14, 16, 5, 1, 0)]    // LeNet-5's second
    [InlineData(8, 3, 32, 64, 3, 1, 1)]    // ResNet stem
    [InlineData(8, 64, 16, 64, 3, 1, 1)]   // ResNet block
    [InlineData(8, 64, 16, 128, 3, 2, 1)]  // strided block
    [InlineData(8, 64, 16, 128, 1, 2, 0)]  // 1×1 shortcut
    [InlineData(4, 256, 4, 256, 3, 1, 1)]  // deep, small map
    public void Convolution_OutputAndGradients_MatchFloat64(int batch, int channels, int size, int outChannels, int kernel, int stride, int padding)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(17);
        var x = randn([batch, channels, size, size], float64, generator: generator);
        var w = randn([outChannels, channels, kernel, kernel], float64, generator: generator) / Math.Sqrt(channels * kernel * kernel);
        var b = randn([outChannels], float64, generator: generator);

        (Tensor Output, Tensor InputGradient, Tensor WeightGradient) Pass(ScalarType type)
        {
            var xi = x.to(type).detach().requires_grad_();
            var wi = w.to(type).detach().requires_grad_();
            var y = nn.functional.conv2d(xi, wi, b.to(type), strides: [stride, stride], padding: [padding, padding]);
            y.backward([torch.ones_like(y) * 0.01 + y.detach() * 0.001]);
            return (y.detach(), xi.grad!, wi.grad!);
        }

        var single = Pass(float32);
        var reference = Pass(float64);
        AssertClose(single.Output, reference.Output, "output");
        AssertClose(single.InputGradient, reference.InputGradient, "input gradient");
        AssertClose(single.WeightGradient, reference.WeightGradient, "weight gradient");
    }

    [Theory]
    [InlineData(32, 64, 2, false)]
    [InlineData(16, 32, 1, true)]
    [InlineData(64, 128, 2, false)]
    public void Lstm_NoGradOutputs_MatchFloat64(int inputSize, int hiddenSize, int layers, bool bidirectional)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(7);
        using var lstm = nn.LSTM(inputSize, hiddenSize, layers, batchFirst: true, bidirectional: bidirectional);
        var x = randn([16, 40, inputSize], float64, generator: new Generator(7));

        Tensor Pass(ScalarType type)
        {
            lstm.to(type);
            using var _ = no_grad();
            var (output, _, _) = lstm.forward(x.to(type));
            return output;
        }

        var single = Pass(float32);
        var reference = Pass(float64);
        AssertClose(single, reference, "LSTM output");
    }
}

using System;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Training;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ML.DeepExtensions.Tests.Training;

/// <summary>
/// <see cref="TrainingPrecision.MixedBFloat16"/>: libtorch's autocast region itself (bfloat16 products inside, float32
/// outside, the state restored, weights re-cast after an update), and every layer kind trained with it on the digits
/// data — close to its float32 accuracy, visibly not float32, seeded runs identical.
/// </summary>
public class MixedPrecisionTests(ITestOutputHelper output)
{
    static MixedPrecisionTests() => TorchRuntime.EnsureInitialized();

    [Fact]
    public void Region_RunsProductsInBFloat16_AndRestoresFloat32_EvenWhenNested()
    {
        using var scope = NewDisposeScope();
        var x = randn(4, 8);
        var w = randn(3, 8);
        Assert.Null(Autocast.Unavailable);
        using (Autocast.Enter(TrainingPrecision.MixedBFloat16, CPU))
        {
            Assert.Equal(ScalarType.BFloat16, F.linear(x, w).dtype);
            Assert.Equal(ScalarType.BFloat16, x.matmul(w.t()).dtype);
            Assert.Equal(ScalarType.Float32, F.mse_loss(F.linear(x, w), zeros(4, 3)).dtype); // losses stay on autocast's float32 list
            using (Autocast.Enter(TrainingPrecision.MixedBFloat16, CPU)) { }
            Assert.Equal(ScalarType.BFloat16, F.linear(x, w).dtype); // the inner region's exit restored the outer state
        }
        Assert.Equal(ScalarType.Float32, F.linear(x, w).dtype);
        Assert.Null(Autocast.Enter(TrainingPrecision.Float32, CPU));
    }

    [Fact]
    public void SuspendOnCpu_RunsFloat32InsideARegion_AndResumesAfter()
    {
        using var scope = NewDisposeScope();
        var x = randn(4, 8);
        var w = randn(3, 8);
        Assert.Null(Autocast.SuspendOnCpu()); // nothing to suspend outside a region
        using (Autocast.Enter(TrainingPrecision.MixedBFloat16, CPU))
        {
            using (Autocast.SuspendOnCpu())
                Assert.Equal(ScalarType.Float32, F.linear(x, w).dtype);
            Assert.Equal(ScalarType.BFloat16, F.linear(x, w).dtype);
        }
        Assert.Equal(ScalarType.Float32, F.linear(x, w).dtype);
    }

    [Fact]
    public void Region_CastsTheWeightsAnew_AfterTheOptimizerChangedThem()
    {
        // PyTorch's autocast may cache the bfloat16 copy of a weight within a region, and the region clears that cache on
        // exit; a stale copy in the next step would silently train against old weights. Whatever libtorch caches, each
        // region must see the in-place update made between them.
        using var scope = NewDisposeScope();
        var x = randn(16, 32);
        var w = randn(8, 32).requires_grad_();
        Tensor Product()
        {
            using (Autocast.Enter(TrainingPrecision.MixedBFloat16, CPU))
                return F.linear(x, w).to(ScalarType.Float32);
        }
        var before = Product();
        using (no_grad())
            w.add_(1.0);
        var after = Product();
        var expected = F.linear(x, w.detach());
        var error = (after - expected).abs().max().item<float>() / expected.abs().max().item<float>();
        Assert.True(error < 2e-2, $"after the update the region computed with old weights: relative error {error:E2}");
        Assert.True((after - before).abs().max().item<float>() > 1, "the update made no difference");
    }

    [Theory]
    [InlineData("ALL", true)]
    [InlineData("AVX512_CORE_BF16", true)]
    [InlineData("avx512_core_amx", true)]
    [InlineData("AVX10_1_512", true)]
    [InlineData("AVX512_CORE_FP16", true)]
    [InlineData("AVX512_CORE", false)]
    [InlineData("AVX512_CORE_VNNI", false)]
    [InlineData("AVX2", false)]
    [InlineData("AVX", false)]
    public void OneDnnCeiling_AdmitsNativeBFloat16_OnlyFromTheBf16Level(string ceiling, bool admits)
        => Assert.Equal(admits, Autocast.CeilingAllowsBFloat16(ceiling));

    [Fact]
    public void Check_RefusesDevicesOtherThanCpuAndCuda_AndAcceptsFloat32Anywhere()
    {
        var meta = new Device(DeviceType.META);
        var error = Assert.Throws<NotSupportedException>(() => Autocast.Check(TrainingPrecision.MixedBFloat16, meta));
        Assert.Contains("Precision = MixedBFloat16", error.Message);
        Assert.Contains("meta", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Null(Autocast.Check(TrainingPrecision.Float32, meta));
        var warning = Autocast.Check(TrainingPrecision.MixedBFloat16, CPU);
        Assert.Equal(!Autocast.CpuHasNativeBFloat16(out _), warning is not null);
    }

    [Fact]
    public void Options_RejectAnUndefinedPrecision()
    {
        var options = new NeuralNetworkMulticlassOptions { Precision = (TrainingPrecision)7 };
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Contains("Precision", error.Message);
    }

    /// <summary>One network per layer kind on the 8×8 digits (64 features), as 1×8×8 images or 8 steps of 8 values.</summary>
    public static TheoryData<string> LayerKinds => new()
    {
        "dense-dropout", "conv2d-batchnorm-pool", "residual-squeeze-excitation", "conv1d-avgpool", "layernorm-gelu-silu",
        "lstm-native", "lstm-unrolled", "gru-bidirectional-2-layers",
    };

    private static Network LayerKind(string kind) => kind switch
    {
        "dense-dropout" => Network.Create().Dense(64).ReLU().Dropout(0.1),
        "conv2d-batchnorm-pool" => Network.Create().Reshape(1, 8, 8).Conv2d(16, 3, padding: 1).BatchNorm().ReLU().MaxPool2d(2).Flatten(),
        "residual-squeeze-excitation" => Network.Create().Reshape(1, 8, 8).Conv2d(16, 3, padding: 1).ReLU()
            .Residual(Network.Create().Conv2d(16, 3, padding: 1).BatchNorm().ReLU().Conv2d(16, 3, padding: 1).BatchNorm(), activation: ActivationKind.ReLU)
            .SqueezeExcitation(4).GlobalAveragePool(),
        "conv1d-avgpool" => Network.Create().Reshape(8, 8).Conv1d(16, 3, padding: 1).ReLU().AvgPool1d(2).Flatten(),
        "layernorm-gelu-silu" => Network.Create().Dense(64).LayerNorm().GELU().Dense(32).SiLU(),
        "lstm-native" or "lstm-unrolled" => Network.Create().Reshape(8, 8).Lstm(32, layers: 2),
        "gru-bidirectional-2-layers" => Network.Create().Reshape(8, 8).Gru(32, layers: 2, bidirectional: true),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    [Theory]
    [Trait("Category", "Accuracy")]
    [MemberData(nameof(LayerKinds))]
    public void EveryLayerKind_TrainsInMixedBFloat16_CloseToFloat32_AndNotAsFloat32(string kind)
    {
        var (float32, float32Losses) = Train(kind, TrainingPrecision.Float32);
        var (mixed, mixedLosses) = Train(kind, TrainingPrecision.MixedBFloat16);
        var (_, again) = Train(kind, TrainingPrecision.MixedBFloat16);
        output.WriteLine($"{kind}: test accuracy float32 {float32:P2}, mixed bfloat16 {mixed:P2}; mixed losses {string.Join(", ", mixedLosses.Select(l => l.ToString("F5")))}");
        // Measured (seed 1): float32 reaches 92.8–97.1 % in these 6 epochs, the two-layer LSTMs 81.4 % (slower learners).
        var threshold = kind.StartsWith("lstm", StringComparison.Ordinal) ? 0.78 : 0.90;
        Assert.True(mixed >= threshold, $"{kind}: mixed-precision test accuracy {mixed:P2} < {threshold:P0}");
        Assert.True(Math.Abs(mixed - float32) <= 0.05, $"{kind}: mixed {mixed:P2} is more than 5 points from float32's {float32:P2}");
        Assert.NotEqual(float32Losses, mixedLosses); // bfloat16 products change the losses: autocast was live
        Assert.Equal(mixedLosses, again);           // and a seeded mixed run repeats exactly
    }

    private static (double Accuracy, double[] Losses) Train(string kind, TrainingPrecision precision)
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = TestData.DigitsSplit(mlContext);
        // nn.LSTM's own pass (libtorch's oneDNN primitive) and the unrolled one, each forced whatever this CPU's default.
        using var unrolled = UnrolledLstm.Force(kind switch { "lstm-unrolled" => true, "lstm-native" => false, _ => null });
        // These layers are too small to gain from bfloat16, so MixedPrecisionRule would keep the dense and convolution ones
        // float32: turned off, every layer kind's bfloat16 path is what trains here.
        using var everyLayerCast = MixedPrecisionRule.Force(false);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions
        {
            Network = LayerKind(kind),
            Epochs = 6,
            BatchSize = 32,
            LearningRate = 3e-3,
            Precision = precision,
        }).Fit(train);
        var accuracy = mlContext.MulticlassClassification.Evaluate(model.Transform(test)).MicroAccuracy;
        return (accuracy, model.History.Select(h => h.TrainingLoss).ToArray());
    }
}

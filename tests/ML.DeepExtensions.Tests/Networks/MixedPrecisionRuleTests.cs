using System;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks;

/// <summary>
/// <see cref="MixedPrecisionRule"/>: inside a mixed-precision step a network keeps its small dense and convolution layers,
/// and the convolutions oneDNN has no bfloat16 weight-gradient kernel for, in float32; everything else is autocast's.
/// </summary>
public class MixedPrecisionRuleTests
{
    static MixedPrecisionRuleTests() => TorchRuntime.EnsureInitialized();

    /// <summary>(network, input shape, batch, whether its only judged layer stays float32 in a mixed step).</summary>
    public static TheoryData<string, int, bool> Cases => new()
    {
        { "dense 256→1", 256, true },                  // 65 thousand multiply-adds
        { "dense 120→84", 64, true },                  // 0.6 million
        { "dense 100→256", 256, false },               // 6.6 million
        { "dense 100→256", 64, true },                 // the same layer at a quarter of the batch: 1.6 million
        { "dense 128→128 over 32 steps", 8, false },   // every step counts: 4.2 million
        { "conv 1→6 5×5", 64, true },                  // LeNet-5's first convolution: no bfloat16 weight-gradient kernel
        { "conv 1→6 5×5", 1024, true },                // at any size
        { "conv 1→16 5×5", 64, false },                // 14.7 million, a multiple of 16 filters: oneDNN's bfloat16 kernel
        { "conv 1→16 5×5", 2, true },                  // 0.5 million
        { "conv 6→16 5×5", 64, false },                // LeNet-5's second convolution
        { "conv 16→8 3×3", 64, false },                // 16 input channels: oneDNN's bfloat16 kernel
        { "depthwise conv1d 32 channels", 64, false }, // grouped: only the size rule (5.2 million)
    };

    private static (Network Network, int[] Input) Case(string name) => name switch
    {
        "dense 256→1" => (Network.Create().Dense(1), [256]),
        "dense 120→84" => (Network.Create().Dense(84), [120]),
        "dense 100→256" => (Network.Create().Dense(256), [100]),
        "dense 128→128 over 32 steps" => (Network.Create().Dense(128), [32, 128]),
        "conv 1→6 5×5" => (Network.Create().Conv2d(6, 5), [1, 28, 28]),
        "conv 1→16 5×5" => (Network.Create().Conv2d(16, 5), [1, 28, 28]),
        "conv 6→16 5×5" => (Network.Create().Conv2d(16, 5), [6, 12, 12]),
        "conv 16→8 3×3" => (Network.Create().Conv2d(8, 3), [16, 28, 28]),
        "depthwise conv1d 32 channels" => (Network.Create().Add(new ConvolutionLayer(1, 32, 5, groups: 32)), [32, 512]),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void InAMixedStep_ALayerRunsInFloat32_ExactlyWhenTheRuleSays(string name, int batch, bool float32)
    {
        using var scope = NewDisposeScope();
        var (network, input) = Case(name);
        using var module = network.Build(input, new BuildContext(new Generator(1)));
        var x = randn([batch, .. input.Select(d => (long)d)]);
        using (Autocast.Enter(TrainingPrecision.MixedBFloat16, CPU))
        {
            Assert.Equal(float32 ? ScalarType.Float32 : ScalarType.BFloat16, module.forward(x).dtype);
            using (MixedPrecisionRule.Force(false))
                Assert.Equal(ScalarType.BFloat16, module.forward(x).dtype); // autocast alone casts every such layer
            using (MixedPrecisionRule.Force(true))
                Assert.Equal(ScalarType.Float32, module.forward(x).dtype);
        }
        Assert.Equal(ScalarType.Float32, module.forward(x).dtype); // outside a step nothing is cast
    }

    [Fact]
    public void AFloat32Layer_AfterABFloat16One_ReceivesItsInputInFloat32_AndGradientsReachBoth()
    {
        using var scope = NewDisposeScope();
        // LeNet-5's head at b64: the convolution runs in bfloat16, the 2-unit dense layer after it in float32.
        var network = Network.Create().Conv2d(16, 5).ReLU().Flatten().Dense(2);
        using var module = network.Build([6, 12, 12], new BuildContext(new Generator(1)));
        var x = randn(64, 6, 12, 12);
        Tensor output;
        using (Autocast.Enter(TrainingPrecision.MixedBFloat16, CPU))
            output = module.forward(x);
        Assert.Equal(ScalarType.Float32, output.dtype);
        output.square().mean().backward();
        var gradients = module.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad);
        Assert.Equal(["0.weight", "0.bias", "3.weight", "3.bias"], gradients.Keys);
        Assert.All(gradients, g => Assert.True(g.Value is not null && g.Value.abs().sum().item<float>() > 0 && g.Value.isfinite().all().item<bool>(), $"{g.Key}: no finite, non-zero gradient"));
    }

    [Fact]
    public void ANetworkOfSmallLayersOnly_TrainsInMixedPrecision_ExactlyAsInFloat32()
    {
        // Digits (64 features), b32: Dense(64) and Dense(32) and the 10-unit head are all far below the threshold, so the
        // mixed-precision run is the float32 run, loss for loss; with the rule off, autocast makes it differ.
        var float32 = TrainLosses(TrainingPrecision.Float32, rule: true);
        var mixed = TrainLosses(TrainingPrecision.MixedBFloat16, rule: true);
        var everyLayerCast = TrainLosses(TrainingPrecision.MixedBFloat16, rule: false);
        Assert.Equal(float32, mixed);
        Assert.NotEqual(float32, everyLayerCast);
    }

    private static double[] TrainLosses(TrainingPrecision precision, bool rule)
    {
        using var forced = MixedPrecisionRule.Force(rule ? null : false);
        var mlContext = new MLContext(seed: 1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions
        {
            Network = Network.Create().Dense(64).ReLU().Dense(32).ReLU(),
            Epochs = 2,
            BatchSize = 32,
            Precision = precision,
        }).Fit(train);
        return model.History.Select(h => h.TrainingLoss).ToArray();
    }
}

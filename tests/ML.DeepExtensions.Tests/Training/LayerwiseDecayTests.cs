using System;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Trainers;
using ML.DeepExtensions.Training;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Training;

/// <summary>TrainerOptions.LayerwiseLearningRateDecay: one optimizer group per backbone block, the lower the slower.</summary>
public class LayerwiseDecayTests
{
    private static NetworkModel Build() => NetworkModel.Build(Network.Create().Dense(8).ReLU().Dense(8).ReLU().Dense(8).ReLU().Dense(3), [5], seed: 1, CPU);

    [Fact]
    public void Decay_GivesEachLayerOfTheBackboneItsRate_FromTheInputUp_AndTheHeadTheFullRate()
    {
        using var model = Build();
        var options = new NeuralNetworkMulticlassOptions { LayerwiseLearningRateDecay = 0.5, BackboneLearningRateFactor = 0.8 };
        var (groups, factors) = TrainingLoop.ParameterGroups(model.Module, model.BackboneParameters(), options);

        Assert.Equal(4, groups.Count); // three Dense layers of the backbone, then the head
        Assert.Equal(new[] { 0.8 * 0.125, 0.8 * 0.25, 0.8 * 0.5, 1.0 }, factors.Select(f => Math.Round(f, 12)));
        Assert.All(groups, g => Assert.Equal(2, g.Count)); // weight and bias of each Dense layer
        var first = model.Module.named_parameters().First().parameter;
        Assert.Same(first, groups[0][0]);
        Assert.Equal(model.Module.parameters().Count(), groups.Sum(g => g.Count));
    }

    [Fact]
    public void NoDecay_KeepsOneGroup_OrBackboneAndHead()
    {
        using var model = Build();
        Assert.Single(TrainingLoop.ParameterGroups(model.Module, model.BackboneParameters(), new NeuralNetworkMulticlassOptions()).Groups);
        var (groups, factors) = TrainingLoop.ParameterGroups(model.Module, model.BackboneParameters(), new NeuralNetworkMulticlassOptions { BackboneLearningRateFactor = 0.1 });
        Assert.Equal(2, groups.Count);
        Assert.Equal(new[] { 0.1, 1.0 }, factors);
    }

    [Fact]
    public void Decay_LowerLayersMoveLess_InARealFit()
    {
        // Same seed, same data, same initial weights. A decay of 1e-6 leaves the first layer where it started (its rate is
        // 1e-12 × the head's), so it serves as the starting point: with decay 0.1 the first layer moves far less than without.
        var mlContext = new MLContext(seed: 1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        Tensor FirstLayer(double decay)
        {
            var options = new NeuralNetworkMulticlassOptions { Network = Network.Create().Dense(16).ReLU().Dense(16).ReLU(), Epochs = 2, LayerwiseLearningRateDecay = decay };
            using var fitted = new MLContext(seed: 1).MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train);
            return fitted.Model.Module.parameters().First().detach().clone();
        }
        using var start = FirstLayer(1e-6);
        using var noDecay = FirstLayer(1);
        using var decayed = FirstLayer(0.1);
        var withoutDecay = (noDecay - start).abs().mean().item<float>();
        var withDecay = (decayed - start).abs().mean().item<float>();
        Assert.True(withoutDecay > 1e-3, $"without decay the first layer moved only {withoutDecay:E2}");
        Assert.True(withDecay < 0.3 * withoutDecay, $"first layer moved {withDecay:E2} with decay 0.1 vs {withoutDecay:E2} without");
    }

    [Fact]
    public void DecayOutsideTheInterval_IsRejectedNamingTheOption()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().MulticlassClassification.Trainers.NeuralNetwork(
            new NeuralNetworkMulticlassOptions { LayerwiseLearningRateDecay = 0 }));
        Assert.Contains("LayerwiseLearningRateDecay", ex.Message);
    }
}

using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using Xunit;

namespace ML.DeepExtensions.Tests.Scoring;

/// <summary>Issue 9: typed access to the trained network and its history inside any fitted pipeline.</summary>
public class TrainedNetworksTests
{
    [Fact]
    public void GetNetwork_FindsTheNetworkInNestedChains_AndGetTrainingHistoryItsEpochs()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var normalizer = mlContext.Transforms.NormalizeMinMax("Features").Fit(train);
        var trained = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 3 })
            .Fit(normalizer.Transform(train));
        // A chain inside a chain, as text and image trainers return them inside a user's pipeline.
        var model = new TransformerChain<ITransformer>(normalizer, new TransformerChain<NeuralNetworkTransformer>(trained),
            mlContext.Transforms.Conversion.MapKeyToValue("PredictedDigit", "PredictedLabel").Fit(trained.Transform(normalizer.Transform(train))));

        var network = model.GetNetwork<NeuralNetworkTransformer>();
        Assert.Same(trained, network);
        Assert.Equal(new[] { 1, 2, 3 }, model.GetTrainingHistory().Select(h => h.Epoch));
        Assert.Equal(10, network.ClassNames!.Count);
    }

    [Fact]
    public void GetNetwork_OnAModelWithoutOne_ThrowsListingItsSteps()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var model = mlContext.Transforms.NormalizeMinMax("Features").Fit(train);
        var ex = Assert.Throws<InvalidOperationException>(() => model.GetTrainingHistory());
        Assert.Contains("NormalizingTransformer", ex.Message);
    }
}

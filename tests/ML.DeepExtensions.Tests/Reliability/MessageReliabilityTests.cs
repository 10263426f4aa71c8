using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Tests.Trainers;
using ML.DeepExtensions.Training;
using Xunit;
using static ML.DeepExtensions.Tests.Reliability.ReliabilityData;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>Issue 10: bad labels and empty splits are reported with the option, the row and the fix.</summary>
[Trait("Category", "Reliability")]
public class MessageReliabilityTests
{
    [Fact]
    public void MulticlassLabel_MissingKey_SaysItIsOutsideTheKeyRangeWithTheRow()
    {
        // The usual cause: a class seen only in the validation data, unknown to the MapValueToKey fitted on training.
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(64);
        keys[5] = 0;
        var options = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 1 };
        var ex = Assert.Throws<InvalidDataException>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(KeyData(mlContext, x, keys)));
        Assert.Contains("Label column 'Label'", ex.Message);
        Assert.Contains("row 5", ex.Message);
        Assert.Contains("key 0", ex.Message);
        Assert.Contains("missing", ex.Message);
        Assert.Contains("outside", ex.Message);
        Assert.Contains("1..3", ex.Message);
        Assert.DoesNotContain("NaN", ex.Message);
    }

    [Fact]
    public void ValidationFraction_LeavingNoTrainingRows_NamesTheOption()
    {
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(2);
        var options = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 1, ValidationFraction = 0.999 };
        var ex = Assert.Throws<InvalidDataException>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(KeyData(mlContext, x, keys)));
        Assert.Contains("ValidationFraction", ex.Message);
        Assert.Contains("no rows", ex.Message);
        Assert.Contains("Received: ValidationFraction=0.999", ex.Message);
    }

    [Fact]
    public void ValidationSet_WithAnotherFeatureSize_SaysValidation()
    {
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(32);
        var (v, vkeys) = Classes(8, features: 5);
        var options = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 1, ValidationSet = KeyData(mlContext, v, vkeys) };
        var ex = Assert.ThrowsAny<Exception>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(KeyData(mlContext, x, keys)));
        Assert.Contains("validation", ex.Message);
        Assert.Contains("4", ex.Message);
        Assert.Contains("5", ex.Message);
    }
}

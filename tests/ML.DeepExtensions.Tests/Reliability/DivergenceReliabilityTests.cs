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

/// <summary>Issue 10: a loss that explodes while staying finite is divergence.</summary>
[Trait("Category", "Reliability")]
public class DivergenceReliabilityTests
{
    [Fact]
    public void ExplosiveLossGrowth_ThrowsTrainingDiverged()
    {
        // Adam with a learning rate of 1000: before the check the epoch losses were 4.9e12, 9.1e6, 1.6e7, 2.0e7, 2.2e7
        // (targets of about 2) — finite, so nothing was said.
        var mlContext = new MLContext(1);
        var random = new Random(2);
        var x = Enumerable.Range(0, 256).Select(_ => Enumerable.Range(0, 4).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var y = x.Select(v => v.Sum()).ToArray();
        var options = new NeuralNetworkRegressionOptions { Network = Network.Mlp([8]), Epochs = 5, LearningRate = 1000 };
        var ex = Assert.Throws<TrainingDivergedException>(() => mlContext.Regression.Trainers.NeuralNetwork(options).Fit(TestData.FromRows(mlContext, x, y)));
        Assert.Contains("grew", ex.Message);
        Assert.Contains("times the first batch's loss", ex.Message);
        Assert.Contains("learning rate", ex.Message);
        Assert.Equal(1, ex.Epoch);
    }
}

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

/// <summary>Issue 10: batch norm never trains on a final batch of one row, and non-finite statistics are divergence.</summary>
[Trait("Category", "Reliability")]
public class BatchNormReliabilityTests
{
    [Fact]
    public void BatchNorm_FinalBatchOfOneRow_IsMergedAndScoresStayFinite()
    {
        // 65 rows, batch 32: the last batch held one row, libtorch's batch norm made running_var NaN and every
        // score NaN while Fit reported a finite loss.
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(65);
        var data = KeyData(mlContext, x, keys);
        var options = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([16], batchNorm: true), Epochs = 2, BatchSize = 32 };
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(data);
        var scores = TestData.Scores(model.Transform(data));
        Assert.All(scores, s => Assert.True(float.IsFinite(s), $"score {s}"));
    }

    [Fact]
    public void BatchNorm_FinalBatchOfOneRow_IsMergedAlsoWhenStreaming()
    {
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(65);
        var data = KeyData(mlContext, x, keys);
        var options = new NeuralNetworkMulticlassOptions
        {
            Network = Network.Mlp([16], batchNorm: true), Epochs = 2, BatchSize = 16, DataLoading = DataLoading.Streaming, ShuffleBufferRows = 32,
        };
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(data);
        Assert.All(TestData.Scores(model.Transform(data)), s => Assert.True(float.IsFinite(s), $"score {s}"));
    }

    [Fact]
    public void BatchNorm_OnASingleRow_ThrowsTrainingDivergedNamingTheRunningStatistic()
    {
        // A data set of one row cannot be merged into anything: the end-of-epoch check must catch what it does.
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(1);
        var options = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([16], batchNorm: true), Epochs = 2, BatchSize = 32 };
        var ex = Assert.Throws<TrainingDivergedException>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(KeyData(mlContext, x, keys)));
        Assert.Contains("running_var", ex.Message);
        Assert.Contains("epoch 1", ex.Message);
        Assert.Equal(1, ex.Epoch);
    }
}

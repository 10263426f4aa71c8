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

/// <summary>Issue 10: MaxInMemoryBytes is honoured by both loading modes.</summary>
[Trait("Category", "Reliability")]
public class DataLoadingReliabilityTests
{
    [Fact]
    public void MaxInMemoryBytes_Exceeded_StreamsInsteadOfLoading()
    {
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(200);
        var messages = new List<string>();
        mlContext.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var options = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 1, MaxInMemoryBytes = 1000 };
        mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(KeyData(mlContext, x, keys));
        Assert.Contains(messages, m => m.Contains("streamed", StringComparison.Ordinal));
    }

    [Fact]
    public void MaxInMemoryBytes_ExceededWithInMemoryLoading_ThrowsNamingBothOptions()
    {
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(200);
        var options = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 1, MaxInMemoryBytes = 1000, DataLoading = DataLoading.InMemory };
        var ex = Assert.Throws<InvalidOperationException>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(KeyData(mlContext, x, keys)));
        Assert.Contains("MaxInMemoryBytes", ex.Message);
        Assert.Contains("DataLoading", ex.Message);
    }
}

using System;
using System.Collections.Concurrent;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Networks;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Trainers;

/// <summary>Issue 9: <c>NumberOfThreads</c> is what torch uses inside <c>Fit</c> and inside scoring, and nothing leaks out.</summary>
public class ThreadOptionTests
{
    /// <summary>Passes its input through and records torch's thread count on every forward pass.</summary>
    public sealed class ThreadProbeLayer : Layer
    {
        public static ConcurrentQueue<int> Seen { get; } = new();

        public override string ToString() => "ThreadProbe";

        public override int[] InferOutputShape(int[] input, int index) => (int[])input.Clone();

        public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new ProbeModule();

        private sealed class ProbeModule() : nn.Module<Tensor, Tensor>("ThreadProbe")
        {
            public override Tensor forward(Tensor input)
            {
                Seen.Enqueue(torch.get_num_threads());
                return input.alias();
            }
        }
    }

    [Fact]
    public void NumberOfThreads_IsHonouredInFitAndInScoring_AndRestoredAfterEach()
    {
        LayerRegistry.Register<ThreadProbeLayer>("ThreadOptionTestsProbe");
        var mlContext = new MLContext(seed: 1);
        var (train, test) = TestData.DigitsSplit(mlContext);
        var before = torch.get_num_threads();
        var wanted = before == 1 ? 2 : 1;
        ThreadProbeLayer.Seen.Clear();

        using var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions
        {
            Network = Network.Create().Add(new ThreadProbeLayer()).Dense(16).ReLU(),
            Epochs = 1,
            NumberOfThreads = wanted,
        }).Fit(train);

        Assert.NotEmpty(ThreadProbeLayer.Seen);
        Assert.All(ThreadProbeLayer.Seen, n => Assert.Equal(wanted, n));
        Assert.Equal(before, torch.get_num_threads());
        Assert.Equal(wanted, model.NumberOfThreads);

        ThreadProbeLayer.Seen.Clear();
        _ = TestData.Scores(model.Transform(test));
        Assert.NotEmpty(ThreadProbeLayer.Seen);
        Assert.All(ThreadProbeLayer.Seen, n => Assert.Equal(wanted, n));
        Assert.Equal(before, torch.get_num_threads());

        model.NumberOfThreads = null;
        ThreadProbeLayer.Seen.Clear();
        _ = TestData.Scores(model.Transform(test));
        Assert.All(ThreadProbeLayer.Seen, n => Assert.Equal(before, n));
    }

    [Fact]
    public void NumberOfThreads_BelowOne_IsRejectedNamingTheOption()
    {
        var mlContext = new MLContext(seed: 1);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(
            new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), NumberOfThreads = 0 }));
        Assert.Equal("NumberOfThreads", ex.ParamName);
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;
using Xunit;

namespace ML.DeepExtensions.Tests.Trainers;

/// <summary>Issue 9: a synchronous callback sees every batch, epoch and decision, in order, before <c>Fit</c> returns.</summary>
public class TrainingCallbackTests
{
    /// <summary>Writes each call as one line, with the thread it ran on.</summary>
    private sealed class Recorder : TrainingCallback
    {
        public List<string> Lines { get; } = [];
        public List<BatchProgress> Batches { get; } = [];
        public HashSet<int> Threads { get; } = [];

        public override void OnBatchEnd(BatchProgress progress)
        {
            Batches.Add(progress);
            Lines.Add($"batch {progress.Epoch}.{progress.Step}");
            Threads.Add(Environment.CurrentManagedThreadId);
        }

        public override void OnEpochEnd(EpochMetrics metrics)
        {
            Lines.Add($"epoch {metrics.Epoch}");
            Threads.Add(Environment.CurrentManagedThreadId);
        }

        public override void OnDecision(TrainingDecision decision) => Lines.Add($"{decision.Kind} {decision.Epoch}");
    }

    [Fact]
    public void Callback_SeesEveryBatchEpochAndDecision_InOrder_OnTheFitThread()
    {
        // Validation labels are the negated training targets: validation gets worse every epoch, so early stopping
        // ends epoch 4 (patience 3) and restores epoch 1.
        var mlContext = new MLContext(1);
        var random = new Random(3);
        var x = Enumerable.Range(0, 200).Select(_ => new[] { (float)random.NextDouble(), (float)random.NextDouble() }).ToArray();
        var y = x.Select(v => 3 * v[0] - 2 * v[1]).ToArray();
        var recorder = new Recorder();
        var options = new NeuralNetworkRegressionOptions
        {
            Network = Network.Create(),
            Epochs = 50,
            BatchSize = 64,
            LearningRate = 0.05,
            ValidationSet = TestData.FromRows(mlContext, x, y.Select(v => -v).ToArray()),
            EarlyStopping = new EarlyStopping(patience: 3),
            Callback = recorder,
        };

        var model = mlContext.Regression.Trainers.NeuralNetwork(options).Fit(TestData.FromRows(mlContext, x, y));

        // 200 rows in batches of 64: steps of 64, 64, 64, 8 per epoch.
        var expected = new List<string>();
        for (var epoch = 1; epoch <= 4; epoch++)
        {
            expected.AddRange(Enumerable.Range(1, 4).Select(step => $"batch {epoch}.{step}"));
            expected.Add($"epoch {epoch}");
        }
        expected.Add("EarlyStopped 4");
        expected.Add("RestoredBestWeights 1");
        Assert.Equal(expected, recorder.Lines);
        Assert.Equal(4, model.History.Count);
        Assert.Equal([Environment.CurrentManagedThreadId], recorder.Threads);

        Assert.Equal(new[] { 64, 64, 64, 8 }, recorder.Batches.Take(4).Select(b => b.Examples));
        Assert.All(recorder.Batches, b => Assert.Equal(50, b.Epochs));
        Assert.All(recorder.Batches, b => Assert.Equal(4, b.StepsPerEpoch)); // in-memory data: the epoch's size is known from the start
        Assert.All(recorder.Batches, b => Assert.True(double.IsFinite(b.Loss) && b.Loss > 0, $"loss {b.Loss}"));
        Assert.Equal(new double?[] { 0.25, 0.5, 0.75, 1 }, recorder.Batches.Take(4).Select(b => b.Fraction));
        Assert.Equal(TimeSpan.Zero, recorder.Batches[3].EpochTimeLeft);
        Assert.True(recorder.Batches[0].EpochTimeLeft > TimeSpan.Zero);
    }

    [Fact]
    public void Callback_SeesBackboneFreezeDecisions_BeforeTheEpochTheyConcern()
    {
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var recorder = new Recorder();
        var options = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([16]), Epochs = 2, BatchSize = 1024, FreezeBackboneEpochs = 1, Callback = recorder };

        mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train);

        Assert.Equal(new[] { "BackboneFrozen 1", "batch 1.1", "batch 1.2", "epoch 1", "BackboneUnfrozen 2", "batch 2.1", "batch 2.2", "epoch 2" }, recorder.Lines);
    }
}

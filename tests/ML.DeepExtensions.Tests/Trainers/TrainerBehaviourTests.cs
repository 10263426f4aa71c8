using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;
using Xunit;

namespace ML.DeepExtensions.Tests.Trainers;

public class TrainerBehaviourTests
{
    private static NeuralNetworkMulticlassOptions Small(int epochs = 3) => new()
    {
        Network = Network.Mlp([32]),
        Epochs = epochs,
        BatchSize = 64,
    };

    [Fact]
    public void SameSeed_GivesIdenticalScores_DifferentSeed_DoesNot()
    {
        float[] Train(int seed)
        {
            var mlContext = new MLContext(seed);
            var (train, test) = TestData.DigitsSplit(new MLContext(1));
            var options = Small();
            options.Network = Network.Mlp([32], dropout: 0.3);
            var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train);
            return TestData.Scores(model.Transform(test));
        }

        var a = Train(5);
        var b = Train(5);
        var c = Train(6);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void SameSeed_GivesIdenticalScores_WhileAnotherThreadBuildsNetworks()
    {
        // Module constructors draw from torch's process-wide generator. A network described (Summary, Describe) or built on
        // another thread while a training seeds and builds its own must not take draws from that initialisation.
        var (train, test) = TestData.DigitsSplit(new MLContext(1));
        var other = Network.Mlp([256, 256]);
        float[] Train()
        {
            var options = Small(epochs: 1);
            options.Network = Network.Mlp([128, 64]);
            using var model = new MLContext(5).MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train);
            return TestData.Scores(model.Transform(test));
        }

        var alone = Train();
        using var stop = new CancellationTokenSource();
        var describer = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
                other.Describe(64);
        });
        describer.Start();
        try
        {
            for (var run = 0; run < 5; run++)
                Assert.Equal(alone, Train());
        }
        finally
        {
            stop.Cancel();
            describer.Join();
        }
    }

    [Fact]
    public void Progress_ReportsEveryEpoch_AndHistoryIsKept()
    {
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var reported = new List<EpochMetrics>();
        var options = Small(4);
        options.ValidationFraction = 0.2;
        options.Progress = new SynchronousProgress<EpochMetrics>(reported.Add);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train);
        Assert.Equal(new[] { 1, 2, 3, 4 }, reported.Select(m => m.Epoch));
        Assert.Equal(reported, model.History);
        Assert.All(reported, m => Assert.InRange(m.Validation["Accuracy"], 0, 1));
        Assert.True(reported[^1].TrainingLoss < reported[0].TrainingLoss);
        Assert.True(reported[^1].ValidationLoss < reported[0].ValidationLoss);
    }

    [Fact]
    public void ValidationMetrics_CoverTheWholeValidationSet()
    {
        var mlContext = new MLContext(1);
        var (train, test) = TestData.DigitsSplit(mlContext);
        var options = Small(2);
        options.ValidationSet = test;
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train);
        var evaluated = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
        // The last epoch's validation metrics were computed on the whole set with the final weights.
        Assert.Equal(evaluated.MicroAccuracy, model.History[^1].Validation["Accuracy"], 6);
        Assert.Equal(evaluated.LogLoss, model.History[^1].Validation["Loss"], 4);
    }

    [Fact]
    public void EarlyStopping_StopsAfterPatience_AndRestoresTheBestEpoch()
    {
        // Constructed case: validation labels are the negated training targets, so every epoch of fitting the
        // training data makes validation worse; the best epoch is the first.
        var mlContext = new MLContext(1);
        var random = new Random(3);
        var x = Enumerable.Range(0, 256).Select(_ => new[] { (float)random.NextDouble(), (float)random.NextDouble() }).ToArray();
        var y = x.Select(v => 3 * v[0] - 2 * v[1]).ToArray();
        var train = TestData.FromRows(mlContext, x, y);
        var validation = TestData.FromRows(mlContext, x, y.Select(v => -v).ToArray());
        var options = new NeuralNetworkRegressionOptions
        {
            Network = Network.Create(),
            Epochs = 50,
            LearningRate = 0.05,
            ValidationSet = validation,
            EarlyStopping = new EarlyStopping(patience: 3),
        };
        var model = mlContext.Regression.Trainers.NeuralNetwork(options).Fit(train);
        var best = model.History.MinBy(h => h.ValidationLoss)!;
        Assert.Equal(best.Epoch + 3, model.History.Count);
        var scores = TestData.Scores(model.Transform(validation));
        var labels = validation.GetColumn<float>("Label").ToArray();
        var mse = scores.Zip(labels, (s, l) => (double)(s - l) * (s - l)).Average();
        Assert.Equal(best.ValidationLoss!.Value, mse, 4);
        Assert.NotEqual(model.History[^1].ValidationLoss!.Value, mse, 4);
    }

    [Theory]
    [InlineData(TrainingPrecision.Float32)]
    [InlineData(TrainingPrecision.MixedBFloat16)]
    public void Checkpoint_ResumedRun_MatchesAnUninterruptedRun(TrainingPrecision precision)
    {
        var directory = Directory.CreateTempSubdirectory("mldx-ckpt").FullName;
        try
        {
            var (train, test) = TestData.DigitsSplit(new MLContext(1));
            NeuralNetworkMulticlassOptions Options(int epochs) => new() { Network = Network.Mlp([32]), Epochs = epochs, BatchSize = 64, Schedule = LearningRateSchedule.StepDecay(2, 0.5), Precision = precision };

            var full = new MLContext(9).MulticlassClassification.Trainers.NeuralNetwork(Options(4)).Fit(train);
            var first = Options(2);
            first.CheckpointDirectory = directory;
            new MLContext(9).MulticlassClassification.Trainers.NeuralNetwork(first).Fit(train);
            Assert.True(File.Exists(Path.Combine(directory, "checkpoint.bin")));
            var resumed = Options(4);
            resumed.ResumeFromCheckpoint = directory;
            var model = new MLContext(9).MulticlassClassification.Trainers.NeuralNetwork(resumed).Fit(train);

            Assert.Equal(4, model.History.Count);
            Assert.Equal(TestData.Scores(full.Transform(test)), TestData.Scores(model.Transform(test)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Cancellation_BetweenBatches_ThrowsOperationCanceled()
    {
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        using var cancel = new CancellationTokenSource();
        var options = Small(50);
        options.CancellationToken = cancel.Token;
        options.Progress = new SynchronousProgress<EpochMetrics>(m => { if (m.Epoch == 1) cancel.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train));
    }

    [Fact]
    public void GpuRequested_WithoutCuda_ThrowsUnlessFallbackToCpu()
    {
        var (train, _) = TestData.DigitsSplit(new MLContext(1));
        var strict = new MLContext(1) { GpuDeviceId = 0, FallbackToCpu = false };
        var ex = Assert.Throws<InvalidOperationException>(() => strict.MulticlassClassification.Trainers.NeuralNetwork(Small(1)).Fit(train));
        Assert.Contains("GpuDeviceId is 0", ex.Message);
        Assert.Contains("FallbackToCpu", ex.Message);

        var lenient = new MLContext(1) { GpuDeviceId = 0, FallbackToCpu = true };
        var model = lenient.MulticlassClassification.Trainers.NeuralNetwork(Small(1)).Fit(train);
        Assert.Single(model.History);
    }

    [Fact]
    public void DivergingLoss_ThrowsTrainingDivergedWithEpochAndBatch()
    {
        var mlContext = new MLContext(1);
        var x = Enumerable.Range(0, 64).Select(i => new[] { (float)i, 1f }).ToArray();
        var y = x.Select(v => 3e37f).ToArray();
        var options = new NeuralNetworkRegressionOptions { Network = Network.Create(), Epochs = 5, LearningRate = 1, Optimizer = OptimizerKind.Sgd };
        var ex = Assert.Throws<TrainingDivergedException>(() => mlContext.Regression.Trainers.NeuralNetwork(options).Fit(TestData.FromRows(mlContext, x, y)));
        Assert.Equal(1, ex.Epoch);
        Assert.Contains("learning rate", ex.Message);
    }

    [Theory]
    [InlineData(DataLoading.InMemory)]
    [InlineData(DataLoading.Streaming)]
    public void BothDataPaths_Learn(DataLoading loading)
    {
        var mlContext = new MLContext(1);
        var (train, test) = TestData.DigitsSplit(mlContext);
        var options = Small(8);
        options.LearningRate = 3e-3;
        options.DataLoading = loading;
        options.ShuffleBufferRows = 256;
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train);
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
        Assert.True(metrics.MicroAccuracy > 0.9, $"{loading}: accuracy {metrics.MicroAccuracy:P1}");
    }

    [Theory]
    [InlineData(OptimizerKind.GradientDescent, 1.0)]
    [InlineData(OptimizerKind.Sgd, 0.2)]
    [InlineData(OptimizerKind.Momentum, 0.05)]
    [InlineData(OptimizerKind.Nesterov, 0.05)]
    [InlineData(OptimizerKind.RMSprop, 0.003)]
    [InlineData(OptimizerKind.AdamW, 0.005)]
    public void EveryOptimizer_ReducesTheTrainingLoss(OptimizerKind optimizer, double learningRate)
    {
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var options = Small(6);
        options.Optimizer = optimizer;
        options.LearningRate = learningRate;
        options.L1 = 1e-6;
        options.L2 = 1e-5;
        options.GradientClipNorm = 5;
        options.WarmupEpochs = 1;
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train);
        Assert.True(model.History[^1].TrainingLoss < 0.9 * model.History[0].TrainingLoss,
            $"{optimizer}: loss {model.History[0].TrainingLoss:F3} → {model.History[^1].TrainingLoss:F3}");
    }

    [Fact]
    public void PredictionEngine_MatchesBatchedTransform_AndMapKeyToValueRestoresLabels()
    {
        var mlContext = new MLContext(1);
        var (train, test) = TestData.DigitsSplit(mlContext);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(Small(3))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedDigit", "PredictedLabel"))
            .Fit(train);
        var scored = model.Transform(test);
        var batchScores = scored.GetColumn<float[]>("Score").Take(20).ToArray();
        var predicted = scored.GetColumn<ReadOnlyMemory<char>>("PredictedDigit").Take(20).Select(p => p.ToString()).ToArray();
        var inputs = mlContext.Data.CreateEnumerable<DigitInput>(test, reuseRowObject: false).Take(20).ToArray();

        var engine = mlContext.Model.CreatePredictionEngine<DigitInput, DigitOutput>(model);
        for (var i = 0; i < inputs.Length; i++)
        {
            var row = engine.Predict(inputs[i]);
            Assert.Equal(batchScores[i], row.Score, new FloatTolerance(1e-5f));
            Assert.Equal(predicted[i], row.PredictedDigit);
            Assert.Contains(row.PredictedDigit, Enumerable.Range(0, 10).Select(d => d.ToString()));
        }
        Assert.Equal(10, ((VectorDataViewType)scored.Schema["Score"].Annotations.Schema.GetColumnOrNull("SlotNames")!.Value.Type).Size);
    }

    public sealed class DigitInput
    {
        [VectorType(64)]
        public float[] Features { get; set; } = [];
    }

    public sealed class DigitOutput
    {
        public float[] Score { get; set; } = [];

        public string PredictedDigit { get; set; } = "";
    }
}

internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

internal sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

    public int GetHashCode(float obj) => 0;
}

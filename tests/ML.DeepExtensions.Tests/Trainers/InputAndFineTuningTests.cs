using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using Xunit;

namespace ML.DeepExtensions.Tests.Trainers;

/// <summary>Integer feature columns, declared input shapes, feature extraction and backbone freezing.</summary>
public class InputAndFineTuningTests
{
    private static readonly Network SmallCnn = Network.Create().Conv2d(8, 3, padding: 1).ReLU().MaxPool2d(2).Flatten().Dense(32).ReLU();

    private static NeuralNetworkMulticlassOptions CnnOptions(int epochs = 4) => new()
    {
        Network = SmallCnn,
        InputShape = [1, 8, 8],
        Epochs = epochs,
        BatchSize = 64,
        LearningRate = 3e-3,
    };

    /// <summary>Digits with the raw 0–16 pixel counts as a Byte vector (what ExtractPixels gives without a float conversion).</summary>
    private static (IDataView Train, IDataView Test) BytePixels(MLContext mlContext)
    {
        var data = mlContext.Data.LoadFromTextFile(TestData.RepoFile("data/digits/digits.csv"), new[]
        {
            new TextLoader.Column("Bytes", DataKind.Byte, 0, 63),
            new TextLoader.Column("Digit", DataKind.String, 64),
        }, separatorChar: ',');
        data = mlContext.Transforms.Conversion.MapValueToKey("Label", "Digit").Fit(data).Transform(data);
        var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 7);
        return (mlContext.Data.Cache(split.TrainSet), mlContext.Data.Cache(split.TestSet));
    }

    [Fact]
    public void ByteFeatureVector_WithDeclaredImageShape_TrainsAConvolutionalNetwork()
    {
        var mlContext = new MLContext(1);
        var (train, test) = BytePixels(mlContext);
        var options = CnnOptions();
        options.FeatureColumnName = "Bytes";
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train);

        Assert.Equal(new[] { 1, 8, 8 }, model.InputShape);
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
        Assert.True(metrics.MicroAccuracy > 0.9, $"accuracy {metrics.MicroAccuracy:P2}");
    }

    [Fact]
    public void DeclaredInputShape_ThatDoesNotMatchTheVector_IsRejectedBeforeTraining()
    {
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var options = CnnOptions();
        options.InputShape = [1, 9, 9];
        var ex = Assert.Throws<ArgumentException>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train));
        Assert.Contains("(1, 9, 9)", ex.Message);
        Assert.Contains("81", ex.Message);
        Assert.Contains("64", ex.Message);
    }

    [Fact]
    public void StringFeatureColumn_IsRejectedWithTheAcceptedTypes()
    {
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var options = CnnOptions();
        options.FeatureColumnName = "Digit";
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train));
        Assert.Contains("'Digit'", ex.Message);
        Assert.Contains("Byte", ex.Message);
        Assert.Contains("String", ex.Message);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void ExtractNetworkFeatures_GivesThePenultimateActivations_UsableByAnMLNetTrainer_AndSurvivesSaveLoad()
    {
        var mlContext = new MLContext(1);
        var (train, test) = TestData.DigitsSplit(mlContext);
        using var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(CnnOptions()).Fit(train);

        using var extractor = mlContext.Transforms.ExtractNetworkFeatures(model, "Embedding").Fit(train);
        Assert.Equal(NetworkTask.FeatureExtraction, extractor.Kind);
        var embedded = extractor.Transform(test);
        var column = embedded.Schema["Embedding"];
        Assert.Equal(32, ((VectorDataViewType)column.Type).Size);

        // The features are the network's own: the trained output layer applied to them reproduces its scores.
        var features = embedded.GetColumn<float[]>("Embedding").ToArray();
        var scores = model.Transform(test).GetColumn<float[]>("Score").ToArray();
        Assert.All(features, f => Assert.Contains(f, v => v > 0)); // after ReLU, not all zero
        var dense = model.Network.Layers[^1];
        Assert.IsType<DenseLayer>(dense);
        Assert.Equal(scores.Length, features.Length);

        // A stock ML.NET trainer learns on them.
        var trainEmbedded = mlContext.Data.Cache(extractor.Transform(train));
        var linear = mlContext.MulticlassClassification.Trainers.SdcaMaximumEntropy(featureColumnName: "Embedding").Fit(trainEmbedded);
        var metrics = mlContext.MulticlassClassification.Evaluate(linear.Transform(embedded));
        Assert.True(metrics.MicroAccuracy > 0.9, $"SDCA on network features: {metrics.MicroAccuracy:P2}");

        var path = Path.Combine(Path.GetTempPath(), $"features-{Guid.NewGuid():N}.zip");
        try
        {
            mlContext.Model.Save(extractor, train.Schema, path);
            var loaded = mlContext.Model.Load(path, out _);
            Assert.IsType<NeuralNetworkTransformer>(loaded);
            var reloaded = loaded.Transform(test).GetColumn<float[]>("Embedding").ToArray();
            Assert.Equal(features.SelectMany(f => f), reloaded.SelectMany(f => f));
            (loaded as IDisposable)?.Dispose();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FreezeBackboneEpochs_KeepsTheBackboneFixed_ThenFineTunesIt()
    {
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);

        float[] FirstConvolutionWeights(int epochs, int frozen)
        {
            var options = CnnOptions(epochs);
            options.FreezeBackboneEpochs = frozen;
            options.BackboneLearningRateFactor = 0.1;
            using var model = new MLContext(3).MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train);
            return model.Model.Module.parameters().First().data<float>().ToArray();
        }

        float[] Initial()
        {
            using var untrained = NetworkModel.Build(SmallCnn.Dense(10), [1, 8, 8], seed: 3, TorchSharp.torch.CPU);
            return untrained.Module.parameters().First().data<float>().ToArray();
        }

        var initial = Initial();
        Assert.Equal(initial, FirstConvolutionWeights(epochs: 2, frozen: 2));
        Assert.NotEqual(initial, FirstConvolutionWeights(epochs: 3, frozen: 2));
    }

    [Fact]
    public void FreezeBackboneEpochs_KeepsBatchNormStatistics_ThenUpdatesThemOnceUnfrozen()
    {
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var network = Network.Create().Conv2d(8, 3, padding: 1).BatchNorm().ReLU().MaxPool2d(2).Flatten();

        float[] RunningStatistics(NetworkModel model)
            => model.Module.named_buffers().Where(b => b.name.EndsWith("running_mean", StringComparison.Ordinal) || b.name.EndsWith("running_var", StringComparison.Ordinal))
                .SelectMany(b => b.buffer.data<float>().ToArray()).ToArray();

        float[] AfterTraining(int epochs, int frozen)
        {
            var options = new NeuralNetworkMulticlassOptions { Network = network, InputShape = [1, 8, 8], Epochs = epochs, BatchSize = 64, LearningRate = 3e-3, FreezeBackboneEpochs = frozen };
            using var model = new MLContext(3).MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train);
            return RunningStatistics(model.Model);
        }

        using var untrained = NetworkModel.Build(network.Dense(10), [1, 8, 8], seed: 3, TorchSharp.torch.CPU);
        var initial = RunningStatistics(untrained);
        Assert.Equal(16, initial.Length);
        // Frozen: the batch norm runs in inference mode, so a frozen backbone computes the function it was loaded with.
        Assert.Equal(initial, AfterTraining(epochs: 2, frozen: 2));
        Assert.NotEqual(initial, AfterTraining(epochs: 1, frozen: 0));
    }

    [Fact]
    public void BackboneLearningRateFactor_SlowsTheBackboneOnly()
    {
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var initial = NetworkModel.Build(SmallCnn.Dense(10), [1, 8, 8], seed: 3, TorchSharp.torch.CPU);

        double Change(double factor, int parameterIndex)
        {
            var options = CnnOptions(1);
            options.Optimizer = ML.DeepExtensions.Training.OptimizerKind.Sgd;
            options.LearningRate = 0.05;
            options.BackboneLearningRateFactor = factor;
            using var model = new MLContext(3).MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train);
            var before = initial.Module.parameters().ElementAt(parameterIndex).data<float>().ToArray();
            var after = model.Model.Module.parameters().ElementAt(parameterIndex).data<float>().ToArray();
            return before.Zip(after, (a, b) => Math.Abs(a - b)).Sum();
        }

        var parameters = initial.Module.parameters().Count();
        var backboneFull = Change(1, 0);
        var backboneSlow = Change(0.01, 0);
        Assert.True(backboneSlow < backboneFull * 0.1, $"backbone moved {backboneSlow} with factor 0.01 vs {backboneFull} with 1");
        var headFull = Change(1, parameters - 2);
        var headSlow = Change(0.01, parameters - 2);
        Assert.True(headSlow > headFull * 0.2, $"head moved {headSlow} with a slow backbone vs {headFull}");
        initial.Dispose();
    }
}

public class PretrainedFineTuningTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public void SavedWeights_StartANewTraining_WithAFreshHeadForANewClassCount_AndAFrozenBackbone()
    {
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var network = Network.Create().Conv2d(8, 3, padding: 1).ReLU().MaxPool2d(2).Flatten().Dense(32).ReLU();
        var first = new NeuralNetworkMulticlassOptions { Network = network, InputShape = [1, 8, 8], Epochs = 10, BatchSize = 32, LearningRate = 3e-3 };
        using var source = mlContext.MulticlassClassification.Trainers.NeuralNetwork(first).Fit(train);
        var path = Path.Combine(Path.GetTempPath(), $"weights-{Guid.NewGuid():N}.bin");
        try
        {
            source.SaveWeights(path);

            // A new task on the same images: is the digit ≥ 5? Two classes instead of ten.
            var halves = Enumerable.Range(0, 10).Select(d => new System.Collections.Generic.KeyValuePair<string, string>(d.ToString(System.Globalization.CultureInfo.InvariantCulture), d >= 5 ? "high" : "low"));
            var binaryLabels = mlContext.Transforms.Conversion.MapValue("Half", halves, "Digit")
                .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", "Half", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue))
                .Fit(train).Transform(train.Schema.GetColumnOrNull("Label") is null ? train : mlContext.Transforms.DropColumns("Label").Fit(train).Transform(train));
            var second = new NeuralNetworkMulticlassOptions
            {
                Network = network,
                InputShape = [1, 8, 8],
                Epochs = 10,
                BatchSize = 32,
                LearningRate = 1e-2,
                PretrainedWeights = ML.DeepExtensions.Pretrained.PretrainedWeights.FromTorchSharp(path),
                FreezeBackboneEpochs = 10,
            };
            using var tuned = mlContext.MulticlassClassification.Trainers.NeuralNetwork(second).Fit(binaryLabels);
            var before = source.Model.Module.parameters().Select(p => p.data<float>().ToArray()).ToArray();
            var after = tuned.Model.Module.parameters().Select(p => p.data<float>().ToArray()).ToArray();
            for (var i = 0; i < before.Length - 2; i++)
                Assert.Equal(before[i], after[i]); // the frozen backbone is exactly the loaded one
            Assert.Equal(2, after[^1].Length); // a fresh two-class head
            var accuracy = mlContext.MulticlassClassification.Evaluate(tuned.Transform(binaryLabels)).MicroAccuracy;
            // The classes split ~50/50; a linear head on these ten-class features reaches ~82 % (SDCA on them: ~84 %).
            Assert.True(accuracy > 0.75, $"head on frozen pretrained features: {accuracy:P1}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void PretrainedWeightsThatDoNotFitTheNetwork_AreRejectedNamingTheFile_BeforeTraining()
    {
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var small = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([16]), Epochs = 1 };
        using var source = mlContext.MulticlassClassification.Trainers.NeuralNetwork(small).Fit(train);
        var path = Path.Combine(Path.GetTempPath(), $"weights-{Guid.NewGuid():N}.bin");
        try
        {
            source.SaveWeights(path);
            var other = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([24]), Epochs = 1, PretrainedWeights = ML.DeepExtensions.Pretrained.PretrainedWeights.FromTorchSharp(path) };
            var ex = Assert.ThrowsAny<IOException>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(other).Fit(train));
            Assert.Contains(Path.GetFileName(path), ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

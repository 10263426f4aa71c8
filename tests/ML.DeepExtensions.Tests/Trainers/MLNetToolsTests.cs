using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Trainers;
using Xunit;

namespace ML.DeepExtensions.Tests.Trainers;

/// <summary>Issue 9: ML.NET's own model tools accept our fitted networks — permutation feature importance, cross-validation,
/// one-versus-all over our binary trainer, and ML.NET's calibrators.</summary>
public class MLNetToolsTests
{
    private sealed class Row
    {
        public float Important { get; set; }
        public float Minor { get; set; }
        public float Noise { get; set; }
        public float Label { get; set; }
    }

    /// <summary>y = 3·Important + 0.5·Minor; Noise plays no part.</summary>
    private static IDataView Data(MLContext mlContext, int rows, int seed)
    {
        var random = new Random(seed);
        var data = Enumerable.Range(0, rows).Select(_ =>
        {
            var row = new Row { Important = (float)random.NextDouble(), Minor = (float)random.NextDouble(), Noise = (float)random.NextDouble() };
            row.Label = 3 * row.Important + 0.5f * row.Minor;
            return row;
        }).ToArray();
        var view = mlContext.Data.LoadFromEnumerable(data);
        return mlContext.Transforms.Concatenate("Features", nameof(Row.Important), nameof(Row.Minor), nameof(Row.Noise)).Fit(view).Transform(view);
    }

    private static NeuralNetworkRegressionOptions Options() => new() { Network = Network.Mlp([16]), Epochs = 40, BatchSize = 32, LearningRate = 0.01 };

    [Fact]
    public void PermutationFeatureImportance_OnAPipelineEndingInOurTrainer_RanksTheFeaturesByWhatTheyDo()
    {
        var mlContext = new MLContext(seed: 1);
        var train = Data(mlContext, 600, 1);
        var test = Data(mlContext, 300, 2);
        var normalizer = mlContext.Transforms.NormalizeMinMax("Features").Fit(train);
        using var network = mlContext.Regression.Trainers.NeuralNetwork(Options()).Fit(normalizer.Transform(train));
        var model = normalizer.Append(network);

        // The chain overload (ML.NET finds the last prediction transformer) …
        var importance = mlContext.Regression.PermutationFeatureImportance(model, test, permutationCount: 2);
        var rmseIncrease = importance.ToDictionary(kv => kv.Key, kv => kv.Value.RootMeanSquaredError.Mean);
        Assert.Equal(new[] { "Important", "Minor", "Noise" }, rmseIncrease.OrderByDescending(kv => kv.Value).Select(kv => kv.Key));
        Assert.True(rmseIncrease["Important"] > 0.5, $"RMSE increase when Important is permuted: {rmseIncrease["Important"]}");
        Assert.True(Math.Abs(rmseIncrease["Noise"]) < 0.05, $"RMSE change when Noise is permuted: {rmseIncrease["Noise"]}");

        // … and the typed overload on the network itself.
        var typed = mlContext.Regression.PermutationFeatureImportance(network, normalizer.Transform(test), permutationCount: 1);
        Assert.Equal(3, typed.Length);
        Assert.True(typed[0].RootMeanSquaredError.Mean > typed[2].RootMeanSquaredError.Mean);
    }

    [Fact]
    public void CrossValidate_FitsAndEvaluatesOurTrainerOnEveryFold()
    {
        var mlContext = new MLContext(seed: 1);
        var data = Data(mlContext, 450, 3);
        var results = mlContext.Regression.CrossValidate(data, mlContext.Regression.Trainers.NeuralNetwork(Options()), numberOfFolds: 3);
        Assert.Equal(3, results.Count);
        Assert.All(results, fold =>
        {
            Assert.IsType<NeuralNetworkTransformer>(fold.Model);
            Assert.True(fold.Metrics.RSquared > 0.9, $"fold R² {fold.Metrics.RSquared}");
        });
        Assert.Equal(450, results.Sum(f => f.ScoredHoldOutSet.GetColumn<float>("Score").Count()));
    }

    private static NeuralNetworkBinaryOptions BinaryOptions() => new() { Network = Network.Mlp([32]), Epochs = 15, BatchSize = 32, LearningRate = 0.01 };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OneVersusAll_OverOurBinaryTrainer_LearnsTheDigits_AndSavesAndLoads(bool useProbabilities)
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = TestData.DigitsSplit(mlContext);
        var binary = mlContext.BinaryClassification.Trainers.NeuralNetwork(BinaryOptions()).AsTrainerEstimator();
        var model = mlContext.MulticlassClassification.Trainers.OneVersusAll(binary, useProbabilities: useProbabilities).Fit(train);

        var scored = model.Transform(test);
        var metrics = mlContext.MulticlassClassification.Evaluate(scored);
        Assert.True(metrics.MacroAccuracy > 0.9, $"one-versus-all macro accuracy on held-out digits {metrics.MacroAccuracy:P2}");

        // The zip holds the ten networks; a fresh context loads them and scores identically.
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"ova-{Guid.NewGuid():N}.zip");
        try
        {
            mlContext.Model.Save(model, train.Schema, path);
            using (var zip = System.IO.Compression.ZipFile.OpenRead(path))
            {
                // One network per class, each saved inside its model parameters.
                var networks = zip.Entries.Where(e => e.FullName.EndsWith("/Network/Weights.bin", StringComparison.Ordinal)).ToArray();
                Assert.Equal(10, networks.Length);
            }
            var loaded = new MLContext(seed: 5).Model.Load(path, out _);
            Assert.Equal(TestData.Scores(scored), TestData.Scores(loaded.Transform(test)));
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Fact]
    public void AsTrainerEstimator_GivesAnMLNetBinaryPredictionTransformer_WithTheNetworksScores()
    {
        var mlContext = new MLContext(seed: 1);
        var data = HighDigits(mlContext, 0, 600);
        var options = BinaryOptions();
        using var plain = mlContext.BinaryClassification.Trainers.NeuralNetwork(options).Fit(data);
        var wrapped = new MLContext(seed: 1).BinaryClassification.Trainers.NeuralNetwork(options).AsTrainerEstimator().Fit(data);

        Assert.IsType<NeuralNetworkBinaryModelParameters>(wrapped.Model);
        var plainScored = plain.Transform(data);
        var wrappedScored = wrapped.Transform(data);
        // Same weights; ML.NET's scorer runs one row per forward pass, ours a batch, so the last float bits may differ.
        Assert.Equal(TestData.Scores(plainScored), TestData.Scores(wrappedScored), new ToleranceComparer(1e-4f));
        Assert.Equal(TestData.Scores(plainScored, "Probability"), TestData.Scores(wrappedScored, "Probability"), new ToleranceComparer(1e-5f));
        Assert.True(mlContext.BinaryClassification.Evaluate(wrappedScored).Accuracy > 0.9);
    }

    [Theory]
    [InlineData("Platt")]
    [InlineData("Isotonic")]
    public void MLNetCalibrators_CalibrateOurBinaryScores(string calibrator)
    {
        var mlContext = new MLContext(seed: 1);
        var train = HighDigits(mlContext, 0, 900);
        var test = HighDigits(mlContext, 900, 600);
        using var network = mlContext.BinaryClassification.Trainers.NeuralNetwork(BinaryOptions()).Fit(train);
        IEstimator<ITransformer> calibration = calibrator == "Platt"
            ? mlContext.BinaryClassification.Calibrators.Platt()
            : mlContext.BinaryClassification.Calibrators.Isotonic();
        var calibrated = calibration.Fit(network.Transform(train)).Transform(network.Transform(test));

        // The calibrator replaces Probability with a monotone map of Score, fitted on the training scores.
        var scores = TestData.Scores(calibrated);
        var probabilities = TestData.Scores(calibrated, "Probability");
        var order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        for (var k = 1; k < order.Length; k++)
            Assert.True(probabilities[order[k]] >= probabilities[order[k - 1]] - 1e-6f, "calibrated probability must not decrease with the score");
        Assert.NotEqual(TestData.Scores(network.Transform(test), "Probability"), probabilities);
        var metrics = mlContext.BinaryClassification.Evaluate(calibrated);
        Assert.True(metrics.Accuracy > 0.9, $"{calibrator}-calibrated accuracy {metrics.Accuracy}");
        Assert.All(probabilities, p => Assert.InRange(p, 0f, 1f));
        if (calibrator == "Platt")
            Assert.True(metrics.LogLoss < 0.5, $"Platt log-loss {metrics.LogLoss}"); // isotonic maps the extremes to 0 or 1: an infinite log-loss on one mistake
    }

    /// <summary>Real 8×8 digits as a binary task — is the digit 5 or more? — rows [skip, skip + rows) of the committed file.</summary>
    private static IDataView HighDigits(MLContext mlContext, int skip, int rows)
    {
        var lines = System.IO.File.ReadLines(TestData.RepoFile("data/digits/digits.csv")).Skip(skip).Take(rows)
            .Select(l => l.Split(',').Select(float.Parse).ToArray()).ToArray();
        return TestData.FromRows(mlContext, lines.Select(v => v.Take(64).Select(p => p / 16).ToArray()).ToArray(), lines.Select(v => v[64] >= 5).ToArray());
    }

    private sealed class ToleranceComparer(float tolerance) : System.Collections.Generic.IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}

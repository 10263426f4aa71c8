using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using Xunit;

namespace ML.DeepExtensions.Tests.Trainers;

/// <summary>Issue 9: ML.NET's own model tools accept our fitted networks — permutation feature importance and cross-validation.</summary>
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
}

using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using TorchSharp;
using Xunit;

namespace ML.DeepExtensions.Tests.Scoring;

public class ScoringTests
{
    [Fact]
    public void Scoring10000Rows_DoesNotGrowTheLiveTensorCount()
    {
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([16]), Epochs = 1 }).Fit(train);
        var random = new System.Random(2);
        var rows = Enumerable.Range(0, 10_000).Select(_ => Enumerable.Range(0, 64).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var data = TestData.FromRows(mlContext, rows, new float[rows.Length]);

        TestData.Scores(model.Transform(data)); // warm-up
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var scores = TestData.Scores(model.Transform(data));
        var engine = mlContext.Model.CreatePredictionEngine<Trainers.TrainerBehaviourTests.DigitInput, Trainers.TrainerBehaviourTests.DigitOutput>(model);
        foreach (var row in rows.Take(1000))
            engine.Predict(new Trainers.TrainerBehaviourTests.DigitInput { Features = row });
        var after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        Assert.Equal(10_000 * 10, scores.Length);
        Assert.Equal(before, after);
    }

    [Fact]
    public void BatchedScores_EqualRowByRowScores()
    {
        var mlContext = new MLContext(1);
        var (train, test) = TestData.DigitsSplit(mlContext);
        var options = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([16]), Epochs = 1, ScoringBatchSize = 7 };
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(train);
        var batched = TestData.Scores(model.Transform(test));
        var engine = mlContext.Model.CreatePredictionEngine<Trainers.TrainerBehaviourTests.DigitInput, Trainers.TrainerBehaviourTests.DigitOutput>(model);
        var single = test.GetColumn<float[]>("Features").SelectMany(f => engine.Predict(new Trainers.TrainerBehaviourTests.DigitInput { Features = f }).Score).ToArray();
        Assert.Equal(batched.Length, single.Length);
        Assert.All(batched.Zip(single), p => Assert.True(System.Math.Abs(p.First - p.Second) < 1e-5, $"{p.First} vs {p.Second}"));
    }
}

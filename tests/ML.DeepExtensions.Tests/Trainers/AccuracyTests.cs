using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Tests.Trainers;

/// <summary>Models trained on the real data sets under data/ must earn these thresholds.</summary>
public class AccuracyTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Accuracy")]
    [Trait("Category", "Slow")]
    public void MulticlassCnn_OnDigits_ReachesAtLeast97PercentTestAccuracy()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = TestData.DigitsSplit(mlContext);
        var trainer = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions
        {
            Network = TestNetworks.DigitsCnn,
            Epochs = 15,
            BatchSize = 32,
            LearningRate = 2e-3,
            Schedule = LearningRateSchedule.Cosine(),
        });
        var model = trainer.Fit(train);
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
        output.WriteLine($"digits CNN: test micro accuracy {metrics.MicroAccuracy:P2}, macro {metrics.MacroAccuracy:P2}, log-loss {metrics.LogLoss:F4}");
        Assert.True(metrics.MicroAccuracy >= 0.97, $"Test accuracy {metrics.MicroAccuracy:P2} < 97%");
        Assert.Equal(15, model.History.Count);
    }

    [Fact]
    [Trait("Category", "Accuracy")]
    public void RegressionMlp_OnDiabetes_BeatsTheMeanPredictorByAWideMargin()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = TestData.DiabetesSplit(mlContext);
        var model = mlContext.Regression.Trainers.NeuralNetwork(new NeuralNetworkRegressionOptions
        {
            Network = Network.Mlp([32]),
            Epochs = 100,
            BatchSize = 32,
            LearningRate = 0.03,   // the raw target (25–346) is far from 0: a larger step lets the output bias get there
            L2 = 1e-3,
        }).Fit(train);
        var metrics = mlContext.Regression.Evaluate(model.Transform(test));
        var trainMean = train.GetColumn<float>("Label").Average();
        var labels = test.GetColumn<float>("Label").ToArray();
        var meanMse = labels.Average(y => (y - trainMean) * (y - trainMean));
        output.WriteLine($"diabetes MLP: test MSE {metrics.MeanSquaredError:F1} vs mean predictor {meanMse:F1}; R² {metrics.RSquared:F3}");
        Assert.True(metrics.MeanSquaredError < 0.6 * meanMse, $"MSE {metrics.MeanSquaredError:F1} is not < 60% of the mean predictor's {meanMse:F1}");
    }

    [Fact]
    [Trait("Category", "Accuracy")]
    public void BinaryMlp_OnDigits_SeparatesLowFromHighDigits_AndWorksWithTheEvaluator()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = TestData.DigitsSplit(mlContext);
        var toBool = mlContext.Transforms.CustomMapping<DigitRow, BoolLabel>((i, o) => o.IsHigh = int.Parse(i.Digit.ToString()) >= 5, null);
        var pipeline = toBool.Append(mlContext.BinaryClassification.Trainers.NeuralNetwork(new NeuralNetworkBinaryOptions
        {
            LabelColumnName = nameof(BoolLabel.IsHigh),
            Epochs = 20,
        }));
        var model = pipeline.Fit(train);
        var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(test), labelColumnName: nameof(BoolLabel.IsHigh));
        output.WriteLine($"digits ≥5 MLP: accuracy {metrics.Accuracy:P2}, AUC {metrics.AreaUnderRocCurve:F4}");
        Assert.True(metrics.Accuracy >= 0.93, $"Accuracy {metrics.Accuracy:P2} < 93%");
        Assert.True(metrics.AreaUnderRocCurve >= 0.97);
    }

    public sealed class DigitRow
    {
        public ReadOnlyMemory<char> Digit { get; set; }
    }

    public sealed class BoolLabel
    {
        public bool IsHigh { get; set; }
    }
}

using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.TestSupport;
using ML.DeepExtensions.Vision.Classification;
using ML.DeepExtensions.Vision.Zoo;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Vision.Tests.Classification;

public class CnnImageClassifierTests(ITestOutputHelper output)
{
    [Fact]
    public void LeNet5_OnRealFashionImages_EarnsTheStatedAccuracy_AndWorksWithTheEvaluator()
    {
        var mlContext = new MLContext(1);
        var train = VisionTestData.Images(mlContext, "train");
        var test = VisionTestData.Images(mlContext, "test");
        var options = new CnnImageClassifierOptions
        {
            Network = VisionArchitectures.LeNet5(),
            ImageHeight = 28,
            ImageWidth = 28,
            Epochs = 15,
            BatchSize = 32,
            LearningRate = 2e-3,
        };
        var clock = Stopwatch.StartNew();
        var model = mlContext.MulticlassClassification.Trainers.CnnImageClassifier(options).Fit(train);
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
        output.WriteLine($"LeNet5, 1,000 Fashion-MNIST images, 15 epochs in {clock.Elapsed.TotalSeconds:F1} s: test accuracy {metrics.MicroAccuracy:P2}, macro {metrics.MacroAccuracy:P2}");
        Assert.True(metrics.MicroAccuracy >= 0.75, $"test accuracy {metrics.MicroAccuracy:P2} < 75 %");
        Assert.Equal(new[] { 1, 28, 28 }, model.LastTransformer.InputShape);
    }
}

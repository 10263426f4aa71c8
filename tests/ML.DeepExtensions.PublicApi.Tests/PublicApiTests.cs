using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;
using Xunit;

namespace ML.DeepExtensions.PublicApi.Tests;

public class PublicApiTests
{
    private static IDataView Points(MLContext mlContext, int count, int seed)
    {
        var random = new Random(seed);
        var rows = Enumerable.Range(0, count).Select(_ =>
        {
            var x = new[] { (float)random.NextDouble() * 2 - 1, (float)random.NextDouble() * 2 - 1 };
            return new Point { Features = x, Label = x[0] * x[0] + x[1] * x[1] < 0.5f };
        }).ToArray();
        return mlContext.Data.LoadFromEnumerable(rows);
    }

    [Fact]
    public void BinaryNetwork_TrainsSavesLoadsAndPredict_ThroughThePublicApiOnly()
    {
        var mlContext = new MLContext(seed: 3);
        var train = Points(mlContext, 800, 1);
        var test = Points(mlContext, 200, 2);
        var epochs = new List<EpochMetrics>();
        var trainer = mlContext.BinaryClassification.Trainers.NeuralNetwork(new NeuralNetworkBinaryOptions
        {
            Network = Network.Create().Dense(32).Tanh().Dense(32).Tanh(),
            Epochs = 40,
            LearningRate = 1e-2,
            ValidationFraction = 0.2,
            EarlyStopping = new EarlyStopping("ValidationAccuracy", patience: 10),
            Progress = new Reporter(epochs.Add),
        });
        var model = trainer.Fit(train);

        Assert.Equal(NetworkTask.BinaryClassification, model.Kind);
        Assert.Contains("Dense(32)", model.Summary());
        Assert.Equal(epochs.Count, model.History.Count);
        var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(test));
        Assert.True(metrics.Accuracy > 0.9, $"accuracy {metrics.Accuracy:P1}");

        var path = Path.Combine(Path.GetTempPath(), $"public-api-{Guid.NewGuid():N}.zip");
        try
        {
            mlContext.Model.Save(model, train.Schema, path);
            var loaded = Assert.IsType<NeuralNetworkTransformer>(new MLContext().Model.Load(path, out _));
            var engine = mlContext.Model.CreatePredictionEngine<Point, Prediction>(loaded);
            Assert.True(engine.Predict(new Point { Features = [0f, 0f] }).PredictedLabel);
            Assert.False(engine.Predict(new Point { Features = [0.95f, 0.95f] }).PredictedLabel);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public sealed class Point
    {
        [VectorType(2)]
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }
    }

    public sealed class Prediction
    {
        public bool PredictedLabel { get; set; }

        public float Probability { get; set; }
    }

    private sealed class Reporter(Action<EpochMetrics> report) : IProgress<EpochMetrics>
    {
        public void Report(EpochMetrics value) => report(value);
    }
}

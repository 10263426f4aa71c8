using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;
using Xunit;

namespace ML.DeepExtensions.Tests.Trainers;

/// <summary>Issue 9: an example-weight column, as ML.NET's trainers have, shapes the training loss.</summary>
public class ExampleWeightTests
{
    private sealed class WeightedRow
    {
        public float[] Features { get; set; } = [];
        public float Label { get; set; }
        public float Weight { get; set; }
    }

    private sealed class WeightedKeyRow
    {
        public float[] Features { get; set; } = [];
        public uint Label { get; set; }
        public float Weight { get; set; }
    }

    private static IDataView View(MLContext mlContext, WeightedRow[] rows)
    {
        var schema = SchemaDefinition.Create(typeof(WeightedRow));
        schema[nameof(WeightedRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Features.Length);
        return mlContext.Data.LoadFromEnumerable(rows, schema);
    }

    private static IDataView View(MLContext mlContext, WeightedKeyRow[] rows, int classes)
    {
        var schema = SchemaDefinition.Create(typeof(WeightedKeyRow));
        schema[nameof(WeightedKeyRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Features.Length);
        schema[nameof(WeightedKeyRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), classes);
        return mlContext.Data.LoadFromEnumerable(rows, schema);
    }

    [Fact]
    public void Weights_DecideBetweenConflictingLabels()
    {
        // Every x appears twice, once labelled +1 (weight 1) and once −1 (weight 0 or 1).
        var mlContext = new MLContext(seed: 1);
        var random = new Random(2);
        var xs = Enumerable.Range(0, 200).Select(_ => new[] { (float)random.NextDouble() }).ToArray();
        WeightedRow[] Rows(float negativeWeight) => xs.SelectMany(x => new[]
        {
            new WeightedRow { Features = x, Label = 1, Weight = 1 },
            new WeightedRow { Features = x, Label = -1, Weight = negativeWeight },
        }).ToArray();
        float MeanPrediction(float negativeWeight)
        {
            var data = View(mlContext, Rows(negativeWeight));
            var options = new NeuralNetworkRegressionOptions { Network = Network.Mlp([8]), Epochs = 30, LearningRate = 0.01, ExampleWeightColumnName = "Weight" };
            using var model = mlContext.Regression.Trainers.NeuralNetwork(options).Fit(data);
            return TestData.Scores(model.Transform(data)).Average();
        }

        Assert.InRange(MeanPrediction(negativeWeight: 0), 0.8f, 1.2f);
        Assert.InRange(MeanPrediction(negativeWeight: 1), -0.2f, 0.2f);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IntegerWeights_TrainLikeRepeatedRows(bool classWeights)
    {
        // Full-batch gradient descent: the weighted mean loss with weights 1–3 is the plain mean loss over the data
        // with each row repeated that many times, so both runs reach the same weights (up to summation order).
        var random = new Random(4);
        var rows = Enumerable.Range(0, 120).Select(i => new WeightedKeyRow
        {
            Features = [(float)random.NextDouble(), (float)random.NextDouble()],
            Label = (uint)(i % 3),
            Weight = 1 + i % 3 * (i % 5 == 0 ? 1 : 0) + (i % 7 == 0 ? 1 : 0),
        }).ToArray();
        var repeated = rows.SelectMany(r => Enumerable.Repeat(new WeightedKeyRow { Features = r.Features, Label = r.Label, Weight = 1 }, (int)r.Weight)).ToArray();
        Assert.True(repeated.Length > rows.Length + 20);

        float[] Scores(WeightedKeyRow[] data, bool weighted)
        {
            var mlContext = new MLContext(seed: 3);
            var options = new NeuralNetworkMulticlassOptions
            {
                Network = Network.Mlp([8]),
                Epochs = 5,
                Optimizer = OptimizerKind.GradientDescent,
                LearningRate = 0.5,
                Shuffle = false,
                ClassWeights = classWeights ? [1f, 2f, 0.5f] : null,
                ExampleWeightColumnName = weighted ? "Weight" : null,
            };
            using var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(View(mlContext, data, 3));
            return TestData.Scores(model.Transform(View(mlContext, rows, 3)));
        }

        var weightedScores = Scores(rows, weighted: true);
        var repeatedScores = Scores(repeated, weighted: false);
        var unweightedScores = Scores(rows, weighted: false);
        Assert.All(weightedScores.Zip(repeatedScores), p => Assert.Equal(p.First, p.Second, tolerance: 1e-4f));
        Assert.True(weightedScores.Zip(unweightedScores).Max(p => Math.Abs(p.First - p.Second)) > 1e-3, "the weights changed nothing");
    }

    [Fact]
    public void BadWeights_AreReportedWithColumnAndRow_AndAMissingOrMistypedColumnBeforeTraining()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 50).Select(i => new WeightedRow { Features = [i / 50f], Label = i, Weight = i == 17 ? -1 : 1 }).ToArray();
        var data = View(mlContext, rows);
        var trainer = mlContext.Regression.Trainers.NeuralNetwork(new NeuralNetworkRegressionOptions { Network = Network.Mlp([4]), Epochs = 1, ExampleWeightColumnName = "Weight" });
        var negative = Assert.Throws<InvalidDataException>(() => trainer.Fit(data));
        Assert.Contains("'Weight'", negative.Message);
        Assert.Contains("row 17", negative.Message);

        var missing = mlContext.Regression.Trainers.NeuralNetwork(new NeuralNetworkRegressionOptions { Network = Network.Mlp([4]), ExampleWeightColumnName = "Importance" });
        var notFound = Assert.ThrowsAny<ArgumentException>(() => missing.Fit(data));
        Assert.Contains("'Importance'", notFound.Message);
        Assert.Equal(notFound.Message, Assert.ThrowsAny<ArgumentException>(() => missing.GetOutputSchema(ML.DeepExtensions.Interop.MLNetInternals.Shape(data.Schema))).Message);

        var mistyped = mlContext.Regression.Trainers.NeuralNetwork(new NeuralNetworkRegressionOptions { Network = Network.Mlp([4]), ExampleWeightColumnName = "Features" });
        var wrongType = Assert.ThrowsAny<ArgumentException>(() => mistyped.Fit(data));
        Assert.Contains("example weight column 'Features'", wrongType.Message);
        Assert.Contains("expected Single", wrongType.Message);
    }
}

using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using Xunit;

namespace ML.DeepExtensions.Tests.Trainers;

/// <summary>Issue 9: a predicted class maps back to a value of the label's own type — a number stays a number — also after loading.</summary>
public class ClassValueTests
{
    private sealed class DigitInput
    {
        [LoadColumn(0, 63), VectorType(64)]
        public float[] Pixels { get; set; } = [];

        [LoadColumn(64)]
        public float Digit { get; set; }
    }

    private sealed class DigitPrediction
    {
        public float Digit { get; set; }
        public float PredictedDigit { get; set; }
    }

    [Fact]
    public void NumericLabel_PredictedLabelMapsBackToANumber_BeforeAndAfterSaveAndLoad()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromTextFile<DigitInput>(TestData.RepoFile("data/digits/digits.csv"), separatorChar: ',');
        var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 7);
        var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(DigitInput.Digit))
            .Append(mlContext.Transforms.Expression("Features", "x => x / 16", nameof(DigitInput.Pixels)))
            .Append(mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([32]), Epochs = 10 }))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedDigit", "PredictedLabel"));
        var model = pipeline.Fit(split.TrainSet);

        void Check(ITransformer m)
        {
            var scored = m.Transform(split.TestSet);
            Assert.Equal(NumberDataViewType.Single, scored.Schema["PredictedDigit"].Type);
            var rows = mlContext.Data.CreateEnumerable<DigitPrediction>(scored, reuseRowObject: false).ToArray();
            var accuracy = rows.Average(r => r.PredictedDigit == r.Digit ? 1.0 : 0.0);
            Assert.True(accuracy > 0.85, $"accuracy {accuracy:P1}");
            Assert.All(rows, r => Assert.InRange(r.PredictedDigit, 0, 9));
        }

        Check(model);
        var path = Path.Combine(Path.GetTempPath(), $"mldx-class-values-{Guid.NewGuid():N}.zip");
        try
        {
            mlContext.Model.Save(model, split.TrainSet.Schema, path);
            Check(mlContext.Model.Load(path, out _));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TextLabel_StaysText()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = TestData.DigitsSplit(mlContext);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([16]), Epochs = 1 })
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedDigit", "PredictedLabel"))
            .Fit(train);
        Assert.Equal(TextDataViewType.Instance, model.Transform(test).Schema["PredictedDigit"].Type);
    }
}

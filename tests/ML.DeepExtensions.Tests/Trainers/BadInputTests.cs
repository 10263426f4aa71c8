using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using Xunit;

namespace ML.DeepExtensions.Tests.Trainers;

/// <summary>Bad input gets a clear exception naming the column or file, what was expected and what was received.</summary>
public class BadInputTests
{
    private readonly MLContext _mlContext = new(1);

    private static NeuralNetworkMulticlassOptions Options() => new() { Network = Network.Mlp([8]), Epochs = 1 };

    private IDataView Digits() => TestData.DigitsSplit(_mlContext).Train;

    [Fact]
    public void MissingFeatureColumn_NamesItAndListsAvailable()
    {
        var options = Options();
        options.FeatureColumnName = "Pixelz";
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(Digits()));
        Assert.Contains("'Pixelz' not found", ex.Message);
        Assert.Contains("'Features'", ex.Message);
    }

    [Fact]
    public void FeatureColumnOfWrongType_SaysExpectedAndReceived()
    {
        var options = Options();
        options.FeatureColumnName = "Digit";
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(Digits()));
        Assert.Contains("Schema mismatch for feature column 'Digit'", ex.Message);
        Assert.Contains("expected a known-size vector of Single", ex.Message);
        Assert.Contains("got String", ex.Message);
    }

    [Fact]
    public void MulticlassLabelNotKey_SaysToUseMapValueToKey()
    {
        var options = Options();
        options.LabelColumnName = "Digit";
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(Digits()));
        Assert.Contains("label column 'Digit'", ex.Message);
        Assert.Contains("MapValueToKey", ex.Message);
        Assert.Contains("got String", ex.Message);
    }

    [Fact]
    public void RegressionLabelOfWrongType_Throws()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _mlContext.Regression.Trainers.NeuralNetwork().Fit(Digits()));
        Assert.Contains("label column 'Label'", ex.Message);
        Assert.Contains("Single or Double", ex.Message);
    }

    [Fact]
    public void WrongVectorSizeAtScoring_NamesColumnAndSizes()
    {
        var model = _mlContext.MulticlassClassification.Trainers.NeuralNetwork(Options()).Fit(Digits());
        var other = TestData.FromRows(_mlContext, new[] { new float[10] }, new[] { 1f });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(other));
        Assert.Contains("feature column 'Features'", ex.Message);
        Assert.Contains("with 64 values", ex.Message);
        Assert.Contains("with 10 values", ex.Message);
    }

    [Fact]
    public void EmptyData_ThrowsBeforeTraining()
    {
        var empty = TestData.FromRows(_mlContext, Array.Empty<float[]>(), Array.Empty<float>());
        var ex = Assert.Throws<InvalidDataException>(() => _mlContext.Regression.Trainers.NeuralNetwork().Fit(empty));
        Assert.Contains("no rows", ex.Message);
    }

    [Fact]
    public void NaNFeature_NamesColumnRowAndSlot()
    {
        var x = Enumerable.Range(0, 10).Select(i => new[] { (float)i, 1f }).ToArray();
        x[7][1] = float.NaN;
        var ex = Assert.Throws<InvalidDataException>(() => _mlContext.Regression.Trainers.NeuralNetwork().Fit(TestData.FromRows(_mlContext, x, new float[10])));
        Assert.Contains("'Features'", ex.Message);
        Assert.Contains("row 7, slot 1", ex.Message);
        Assert.Contains("NaN", ex.Message);
    }

    [Fact]
    public void InfiniteLabel_NamesColumnAndRow()
    {
        var x = Enumerable.Range(0, 10).Select(i => new[] { (float)i }).ToArray();
        var y = new float[10];
        y[3] = float.PositiveInfinity;
        var ex = Assert.Throws<InvalidDataException>(() => _mlContext.Regression.Trainers.NeuralNetwork().Fit(TestData.FromRows(_mlContext, x, y)));
        Assert.Contains("Label column 'Label'", ex.Message);
        Assert.Contains("row 3", ex.Message);
    }

    [Fact]
    public void NetworkThatCannotTakeTheFeatures_ThrowsBeforeTraining()
    {
        var options = Options();
        options.Network = Network.Create().Reshape(3, 8, 8);
        Assert.Throws<NetworkShapeException>(() => _mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(Digits()));
    }

    [Fact]
    public void NonExistentCheckpointDirectory_ToResumeFrom_Throws()
    {
        var options = Options();
        options.ResumeFromCheckpoint = "/nonexistent/mldx-checkpoints";
        var ex = Assert.Throws<DirectoryNotFoundException>(() => _mlContext.MulticlassClassification.Trainers.NeuralNetwork(options));
        Assert.Contains("/nonexistent/mldx-checkpoints", ex.Message);
    }

    [Fact]
    public void CheckpointDirectoryWithMissingParent_Throws()
    {
        var options = Options();
        options.CheckpointDirectory = "/nonexistent/parent/checkpoints";
        var ex = Assert.Throws<DirectoryNotFoundException>(() => _mlContext.MulticlassClassification.Trainers.NeuralNetwork(options));
        Assert.Contains("/nonexistent/parent", ex.Message);
    }

    [Theory]
    [InlineData(nameof(NeuralNetworkMulticlassOptions.Epochs))]
    [InlineData(nameof(NeuralNetworkMulticlassOptions.BatchSize))]
    [InlineData(nameof(NeuralNetworkMulticlassOptions.LearningRate))]
    public void InvalidOption_ThrowsWithItsName(string option)
    {
        var options = Options();
        typeof(NeuralNetworkMulticlassOptions).GetProperty(option)!.SetValue(options, option == "LearningRate" ? (object)0.0 : 0);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _mlContext.MulticlassClassification.Trainers.NeuralNetwork(options));
        Assert.Equal(option, ex.ParamName);
    }

    [Fact]
    public void EarlyStoppingOnValidationMetric_WithoutValidationData_Throws()
    {
        var options = Options();
        options.EarlyStopping = new global::ML.DeepExtensions.Training.EarlyStopping("ValidationAccuracy");
        var ex = Assert.Throws<ArgumentException>(() => _mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(Digits()));
        Assert.Contains("ValidationFraction", ex.Message);
    }
}

using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.TestSupport.Contract;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tests.Contract;

/// <summary>The estimator contract (tests/Shared/Contract) over the core package's estimators: one line per estimator.</summary>
public sealed class CoreContractTests : EstimatorContractTests<CoreContractTests>, IEstimatorCases
{
    public static IReadOnlyList<EstimatorCase> All { get; } =
    [
        new("Regression.NeuralNetwork", ml => ml.Regression.Trainers.NeuralNetwork(new NeuralNetworkRegressionOptions { Network = Network.Mlp([16]), Epochs = 1 }), Diabetes, ["Features", "Label"], [new("Epochs", ml => ml.Regression.Trainers.NeuralNetwork(new NeuralNetworkRegressionOptions { Epochs = 0 })), new("Loss", ml => ml.Regression.Trainers.NeuralNetwork(new NeuralNetworkRegressionOptions { Loss = (RegressionLoss)42 }))]),
        new("BinaryClassification.NeuralNetwork", ml => ml.BinaryClassification.Trainers.NeuralNetwork(new NeuralNetworkBinaryOptions { LabelColumnName = "IsHigh", Network = Network.Mlp([16]), Epochs = 1 }), Digits, ["Features", "IsHigh"], [new("BatchSize", ml => ml.BinaryClassification.Trainers.NeuralNetwork(new NeuralNetworkBinaryOptions { BatchSize = 0 })), new("InputShape", ml => ml.BinaryClassification.Trainers.NeuralNetwork(new NeuralNetworkBinaryOptions { InputShape = [0] }))]),
        new("MulticlassClassification.NeuralNetwork", ml => ml.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = SmallCnn, Epochs = 1 }), Digits, ["Features", "Label"], [new("ClassWeights", ml => ml.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { ClassWeights = [0f] })), new("LabelSmoothing", ml => ml.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { LabelSmoothing = 1 }))]),
        new("Transforms.ExtractNetworkFeatures", ml => { using var model = TrainedOnDigits(ml); return ml.Transforms.ExtractNetworkFeatures(model); }, Digits, ["Features"], [new("outputColumnName", ml => { using var model = TrainedOnDigits(ml); return ml.Transforms.ExtractNetworkFeatures(model, outputColumnName: ""); })]),
    ];

    /// <summary>A CNN with batch norm and dropout, so that scoring must run them in inference mode.</summary>
    private static Network SmallCnn => Network.Create().Reshape(1, 8, 8).Conv2d(4, 3, padding: 1).BatchNorm().ReLU().MaxPool2d(2).Flatten().Dense(16).ReLU().Dropout(0.1);

    /// <summary>Diabetes (442 rows): Raw = 10 baseline variables, Label = progression; Features = Raw standardized.</summary>
    private static CaseData Diabetes(MLContext mlContext) => new(
        mlContext.Data.LoadFromTextFile(TestData.RepoFile("data/diabetes/diabetes.csv"),
            [new TextLoader.Column("Raw", DataKind.Single, 0, 9), new TextLoader.Column("Label", DataKind.Single, 10)], separatorChar: ',', hasHeader: true),
        mlContext.Transforms.NormalizeMeanVariance("Features", "Raw"));

    /// <summary>The first 500 of the 8×8 digits: Features = pixels / 16, Label = the digit as a key, IsHigh = digit ≥ 5.</summary>
    private static CaseData Digits(MLContext mlContext) => new(
        mlContext.Data.TakeRows(mlContext.Data.LoadFromTextFile(TestData.RepoFile("data/digits/digits.csv"),
            [new TextLoader.Column("Pixels", DataKind.Single, 0, 63), new TextLoader.Column("Digit", DataKind.Single, 64)], separatorChar: ','), 500),
        mlContext.Transforms.Expression("Features", "x => x / 16", "Pixels")
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", "Digit"))
            .Append(mlContext.Transforms.Expression("IsHigh", "d => d >= 5", "Digit")));

    /// <summary>A digits MLP after one epoch, for the feature extractor (which copies its weights, so the caller disposes it).</summary>
    private static NeuralNetworkTransformer TrainedOnDigits(MLContext mlContext)
    {
        var data = Digits(mlContext);
        var input = data.Prepare!.Fit(data.Raw).Transform(data.Raw);
        return mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([16]), Epochs = 1 }).Fit(input);
    }
}

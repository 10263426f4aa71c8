// Quick-start: train a small CNN on the 8×8 digits shipped in data/, evaluate it with ML.NET's evaluator,
// save it as an ordinary ML.NET zip, load it back and predict a few rows.
using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;

var mlContext = new MLContext(seed: 1);
var dataPath = Path.Combine(AppContext.BaseDirectory, "data", "digits.csv");

// 1,797 rows: 64 pixel counts (0–16) of an 8×8 hand-written digit, then the digit.
var data = mlContext.Data.LoadFromTextFile<DigitInput>(dataPath, separatorChar: ',');
var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 7);

// A CNN written in the layer DSL; shapes are inferred, the output layer is added by the trainer.
var network = Network.Create()
    .Reshape(1, 8, 8)
    .Conv2d(32, 3, padding: 1).ReLU()
    .Conv2d(32, 3, padding: 1).ReLU().MaxPool2d(2)
    .Flatten().Dense(64).ReLU().Dropout(0.2);
Console.WriteLine(network.Summary(64));

var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(DigitInput.Digit))
    .Append(mlContext.Transforms.Expression("Features", "x => x / 16", nameof(DigitInput.Pixels)))
    .Append(mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions
    {
        Network = network,
        Epochs = 15,
        LearningRate = 2e-3,
        Schedule = LearningRateSchedule.Cosine(),
        ValidationFraction = 0.1,
        EarlyStopping = new EarlyStopping("ValidationLoss", patience: 4),
        Progress = new Progress<EpochMetrics>(m => Console.WriteLine(m)),
    }))
    .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedDigit", "PredictedLabel"));

var model = pipeline.Fit(split.TrainSet);

var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(split.TestSet));
Console.WriteLine($"Test accuracy: {metrics.MicroAccuracy:P2} (macro {metrics.MacroAccuracy:P2}), log-loss {metrics.LogLoss:F4}");
Console.WriteLine(metrics.ConfusionMatrix.GetFormattedConfusionTable());

var modelPath = Path.Combine(Path.GetTempPath(), "digits-cnn.zip");
mlContext.Model.Save(model, data.Schema, modelPath);
Console.WriteLine($"Saved {modelPath} ({new FileInfo(modelPath).Length / 1024} KiB)");

var loaded = new MLContext().Model.Load(modelPath, out _);
var engine = mlContext.Model.CreatePredictionEngine<DigitInput, DigitPrediction>(loaded);
foreach (var digit in mlContext.Data.CreateEnumerable<DigitInput>(split.TestSet, reuseRowObject: false).Take(5))
{
    var prediction = engine.Predict(digit);
    Console.WriteLine($"true {digit.Digit} → predicted {prediction.PredictedDigit} (p = {prediction.Score.Max():P1})");
}

/// <summary>One row of digits.csv.</summary>
public sealed class DigitInput
{
    /// <summary>64 pixel counts, 0–16.</summary>
    [LoadColumn(0, 63), VectorType(64)]
    public float[] Pixels { get; set; } = [];

    /// <summary>The digit, as text so that predictions map back to it.</summary>
    [LoadColumn(64)]
    public string Digit { get; set; } = "";
}

/// <summary>What the model adds.</summary>
public sealed class DigitPrediction
{
    /// <summary>Probability of each digit.</summary>
    public float[] Score { get; set; } = [];

    /// <summary>The most probable digit.</summary>
    public string PredictedDigit { get; set; } = "";
}

// Image classification, Model Builder style: train a CNN on image files in one folder per class (ImageClassifier.training.cs),
// evaluate it, draw the learning curves and the confusion matrix, save it, then load it back and predict as an app would
// (ImageClassifier.consumption.cs).
// Data: the Fashion-MNIST subset in data/fashion-mnist (1,000 training and 300 test images; see data/README.md), copied
// next to the program by the project file. Run: dotnet run --project samples/ImageClassification [-- <output-directory>]
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using ImageClassification;
using Microsoft.ML;
using ML.DeepExtensions.Plots;
using ML.DeepExtensions.Scoring;
using Samples.Shared;

var outputDirectory = Directory.CreateDirectory(args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "output")).FullName;
var mlContext = new MLContext(seed: 1);
var train = mlContext.Data.LoadFromEnumerable(ImageClassifier.LoadFiles("train"));
var test = mlContext.Data.LoadFromEnumerable(ImageClassifier.LoadFiles("test"));

// 1. Train (a progress bar per epoch with loss and time left), then evaluate on the held-out test images.
Console.WriteLine($"Training LeNet-5 on {train.GetRowCount()} images …");
var clock = Stopwatch.StartNew();
var model = ConsoleTrainingProgress.Run(callback => ImageClassifier.Train(mlContext, train, callback));
Console.WriteLine($"Trained in {clock.Elapsed.TotalSeconds:F1} s.");
var network = model.GetNetwork<NeuralNetworkTransformer>();
var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
Console.WriteLine($"Test accuracy {metrics.MicroAccuracy:P2} (macro {metrics.MacroAccuracy:P2}), log-loss {metrics.LogLoss:F3} on {test.GetRowCount()} images.");

// 2. Pictures: learning curves and confusion matrix.
var curves = Path.Combine(outputDirectory, "learning-curves.png");
var confusion = Path.Combine(outputDirectory, "confusion-matrix.png");
// Early stopping monitors ValidationAccuracy and restores its first best epoch: mark that one.
var restored = network.History.MaxBy(h => h.Validation["Accuracy"])!.Epoch;
TrainingPlots.SaveLearningCurves(network.History, curves, "LeNet-5 on Fashion-MNIST (1,000 images)", markEpoch: restored);
TrainingPlots.SaveConfusionMatrix(metrics.ConfusionMatrix, network.ClassNames, confusion, $"Test confusion matrix — accuracy {metrics.MicroAccuracy:P1}");
Console.WriteLine($"Wrote {curves}\nWrote {confusion}");

// 3. Save, then consume the saved model as an application would.
ImageClassifier.ModelPath = Path.Combine(outputDirectory, "image-classifier.zip");
mlContext.Model.Save(model, train.Schema, ImageClassifier.ModelPath);
Console.WriteLine($"Saved {ImageClassifier.ModelPath} ({new FileInfo(ImageClassifier.ModelPath).Length / 1024} KiB).");
var classNames = network.ClassNames!.ToArray();
foreach (var file in ImageClassifier.LoadFiles("test").Where((_, i) => i % 60 == 0))
{
    var prediction = ImageClassifier.Predict(new ModelInput { ImagePath = file.ImagePath });
    Console.WriteLine($"{file.Label}/{Path.GetFileName(file.ImagePath)} → {prediction.PredictedLabel} ({ImageClassifier.Top3(prediction, classNames)})");
}
return 0;

// Object detection, Model Builder style: train an anchor-free detector on images with boxes in ML.NET's column convention
// (ObjectDetector.training.cs), evaluate COCO mAP, save it, then load it back, predict and draw as an app would
// (ObjectDetector.consumption.cs).
// Data: seeded canvases made from the Fashion-MNIST subset (train split for training, test split for testing) pasted on
// crops of data/photos (samples/Shared/DetectionCanvases.cs). Run: dotnet run --project samples/ObjectDetection [-- <output-directory>]
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Vision;
using ObjectDetection;
using Samples.Shared;

var outputDirectory = Directory.CreateDirectory(args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "output")).FullName;
var mlContext = new MLContext(seed: 1);
var trainRows = ObjectDetector.MakeCanvases(Path.Combine(outputDirectory, "canvases"), "train", 320, seed: 1);
var validationRows = ObjectDetector.MakeCanvases(Path.Combine(outputDirectory, "canvases"), "test", 60, seed: 2);
var testRows = ObjectDetector.MakeCanvases(Path.Combine(outputDirectory, "canvases"), "test", 100, seed: 3);
var train = mlContext.Data.LoadFromEnumerable(trainRows);

// 1. Train (a progress bar per epoch; validation mAP@0.5 drives early stopping), then evaluate on unseen test canvases.
Console.WriteLine($"Training the AnchorFreeDetector on {trainRows.Length} canvases with {trainRows.Sum(r => r.Labels.Length)} objects …");
var clock = Stopwatch.StartNew();
var model = ConsoleTrainingProgress.Run(callback => ObjectDetector.Train(mlContext, train, mlContext.Data.LoadFromEnumerable(validationRows), callback));
Console.WriteLine($"Trained in {clock.Elapsed.TotalSeconds:F1} s.");
var metrics = mlContext.MulticlassClassification.EvaluateDetections(model.Transform(mlContext.Data.LoadFromEnumerable(testRows)));
Console.WriteLine($"Test {metrics} on {testRows.Length} canvases.");

// 2. Save, then consume the saved model as an application would, and draw predicted and true boxes.
ObjectDetector.ModelPath = Path.Combine(outputDirectory, "object-detector.zip");
mlContext.Model.Save(model, train.Schema, ObjectDetector.ModelPath);
Console.WriteLine($"Saved {ObjectDetector.ModelPath} ({new FileInfo(ObjectDetector.ModelPath).Length / 1024} KiB).");
foreach (var (row, i) in testRows.Take(4).Select((r, i) => (r, i)))
{
    var prediction = ObjectDetector.Predict(row);
    var png = Path.Combine(outputDirectory, $"detections-{i}.png");
    ObjectDetector.Draw(row, prediction, png);
    Console.WriteLine($"{Path.GetFileName(row.ImagePath)}: true [{string.Join(", ", row.Labels)}] → predicted " +
                      $"[{string.Join(", ", prediction.PredictedClasses.Zip(prediction.Score, (l, s) => $"{l} {s:0.00}"))}]; wrote {png}");
}
return 0;

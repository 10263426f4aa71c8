// Image classification, Model Builder style: train a CNN on image files in one folder per class, evaluate it,
// save it, draw the learning curves and the confusion matrix, then load it back and predict as an app would.
// Data: the Fashion-MNIST subset in data/fashion-mnist (1,000 training and 300 test images; see data/README.md).
// Run: dotnet run --project samples/ImageClassification [-- <output-directory>]
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using ImageClassification;
using Microsoft.ML;
using ML.DeepExtensions.Plots;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Classification;
using ML.DeepExtensions.Vision.Zoo;

var dataRoot = FindUp(Path.Combine("data", "fashion-mnist"));
var outputDirectory = Directory.CreateDirectory(args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "output")).FullName;
var mlContext = new MLContext(seed: 1);

// 1. Data: one row per image file; the folder name is the label.
ModelInput[] Files(string split) => Directory.GetDirectories(Path.Combine(dataRoot, split)).OrderBy(d => d, StringComparer.Ordinal)
    .SelectMany(d => Directory.GetFiles(d).OrderBy(f => f, StringComparer.Ordinal).Select(f => new ModelInput { ImagePath = f, Label = Path.GetFileName(d) }))
    .ToArray();
var train = mlContext.Data.LoadFromEnumerable(Files("train"));
var test = mlContext.Data.LoadFromEnumerable(Files("test"));

// 2. Pipeline: label → key, file → image, CNN, key → label. The trainer resizes to the architecture's input and
//    normalises with its mean/std, identically when scoring; augmentation runs on training batches only.
var options = new CnnImageClassifierOptions
{
    Network = VisionArchitectures.LeNet5(),
    ImageHeight = 28,
    ImageWidth = 28,
    Epochs = 25,
    BatchSize = 32,
    LearningRate = 2e-3,
    Augmentation = new ImageAugmentation { CropPadding = 2, HorizontalFlip = true },
    ValidationFraction = 0.15,
    EarlyStopping = new EarlyStopping("ValidationAccuracy", patience: 6, restoreBestWeights: true),
    Progress = new Progress<EpochMetrics>(m => Console.WriteLine($"  {m}")),
};
var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
    .Append(mlContext.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ModelInput.ImagePath)))
    .Append(mlContext.MulticlassClassification.Trainers.CnnImageClassifier(options))
    .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

// 3. Train and evaluate on the held-out test images.
Console.WriteLine($"Training {options.Network.Layers[0]} on {train.GetRowCount()} images …");
var clock = Stopwatch.StartNew();
var model = pipeline.Fit(train);
Console.WriteLine($"Trained in {clock.Elapsed.TotalSeconds:F1} s.");
var network = model.OfType<Microsoft.ML.Data.TransformerChain<ML.DeepExtensions.Scoring.NeuralNetworkTransformer>>().Single().LastTransformer;
var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
Console.WriteLine($"Test accuracy {metrics.MicroAccuracy:P2} (macro {metrics.MacroAccuracy:P2}), log-loss {metrics.LogLoss:F3} on {test.GetRowCount()} images.");

// 4. Pictures: learning curves and confusion matrix.
var curves = Path.Combine(outputDirectory, "learning-curves.png");
var confusion = Path.Combine(outputDirectory, "confusion-matrix.png");
TrainingPlots.SaveLearningCurves(network.History, curves, "LeNet-5 on Fashion-MNIST (1,000 images)");
TrainingPlots.SaveConfusionMatrix(metrics.ConfusionMatrix, network.ClassNames, confusion, $"Test confusion matrix — accuracy {metrics.MicroAccuracy:P1}");
Console.WriteLine($"Wrote {curves}\nWrote {confusion}");

// 5. Save, then consume the saved model as an application would.
var modelPath = Path.Combine(outputDirectory, "image-classifier.zip");
mlContext.Model.Save(model, train.Schema, modelPath);
Console.WriteLine($"Saved {modelPath} ({new FileInfo(modelPath).Length / 1024} KiB).");
var classNames = network.ClassNames!.ToArray();
foreach (var file in Files("test").Where((_, i) => i % 60 == 0))
{
    Console.WriteLine($"{Path.GetFileName(Path.GetDirectoryName(file.ImagePath))}/{Path.GetFileName(file.ImagePath)}:");
    ModelConsumption.Print(ModelConsumption.Predict(modelPath, file.ImagePath), classNames);
}
return 0;

static string FindUp(string relative)
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, relative);
        if (Directory.Exists(candidate))
            return candidate;
    }
    throw new DirectoryNotFoundException($"'{relative}' not found above {AppContext.BaseDirectory}; run from the repository.");
}

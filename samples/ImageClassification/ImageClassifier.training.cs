using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Classification;
using ML.DeepExtensions.Vision.Zoo;

namespace ImageClassification;

/// <summary>Training, Model Builder style: the data, the pipeline and the training call, with nothing else mixed in.</summary>
public static partial class ImageClassifier
{
    /// <summary>The Fashion-MNIST subset copied next to the program (see the project file): one folder per class.</summary>
    public static string DataRoot => Path.Combine(AppContext.BaseDirectory, "data", "fashion-mnist");

    /// <summary>One row per image file of <paramref name="split"/> ("train" or "test"); the folder name is the label.</summary>
    public static ModelInput[] LoadFiles(string split)
        => Directory.GetDirectories(Path.Combine(DataRoot, split)).OrderBy(d => d, StringComparer.Ordinal)
            .SelectMany(d => Directory.GetFiles(d).OrderBy(f => f, StringComparer.Ordinal).Select(f => new ModelInput { ImagePath = f, Label = Path.GetFileName(d) }))
            .ToArray();

    /// <summary>
    /// Label → key, file → image, CNN, key → label. The trainer resizes to the architecture's input and normalises
    /// with its mean/std, identically when scoring; augmentation runs on training batches only.
    /// </summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, TrainingCallback? callback = null)
    {
        var options = new CnnImageClassifierOptions
        {
            Network = VisionArchitectures.LeNet5(),
            ImageHeight = 28,
            ImageWidth = 28,
            Epochs = 25,
            BatchSize = 32,
            LearningRate = 2e-3,
            // Clothes keep their class in a mirror, so flips are allowed (ImageAugmentation.Characters has none).
            Augmentation = new ImageAugmentation { CropPadding = 2, HorizontalFlip = true },
            ValidationFraction = 0.15,
            EarlyStopping = new EarlyStopping("ValidationAccuracy", patience: 6, restoreBestWeights: true),
            Callback = callback,
        };
        return mlContext.Transforms.Conversion.MapValueToKey("Label")
            .Append(mlContext.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ModelInput.ImagePath)))
            .Append(mlContext.MulticlassClassification.Trainers.CnnImageClassifier(options))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
    }

    /// <summary>Fits the pipeline on <paramref name="trainingData"/>.</summary>
    public static ITransformer Train(MLContext mlContext, IDataView trainingData, TrainingCallback? callback = null)
        => BuildPipeline(mlContext, callback).Fit(trainingData);
}

using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Samples.Shared;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Detection;

namespace ObjectDetection;

/// <summary>Training, Model Builder style: the data, the pipeline and the training call, with nothing else mixed in.</summary>
public static partial class ObjectDetector
{
    /// <summary>The Fashion-MNIST classes pasted on the canvases (all ten are harder: Shirt, T-shirt, Pullover and Coat look alike
    /// at 24–48 px; see docs/detection.md for the ten-class benchmark).</summary>
    public static readonly string[] Classes = ["Trouser", "Bag", "Sneaker", "T-shirt"];

    /// <summary>Writes <paramref name="count"/> seeded canvases of <paramref name="split"/> as PNG files and returns their rows.</summary>
    public static ModelInput[] MakeCanvases(string directory, string split, int count, int seed)
    {
        var canvases = new DetectionCanvases(DetectionCanvases.FindDataDirectory()).Generate(split, count, seed, Classes);
        Directory.CreateDirectory(directory);
        return canvases.Select((c, i) =>
        {
            var path = Path.Combine(directory, $"{split}-{seed}-{i:D4}.png");   // one file name per set: sets of one split never overwrite each other
            c.Image.Save(path);
            return new ModelInput { ImagePath = path, Labels = c.Labels, Box = c.Box };
        }).ToArray();
    }

    /// <summary>Labels → keys, file → image, detector, predicted keys → class names (<c>PredictedClasses</c>; the key column
    /// <c>PredictedLabel</c> stays for <c>EvaluateDetections</c>).</summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, IDataView validation, TrainingCallback? callback = null)
    {
        var options = new ObjectDetectorOptions
        {
            Epochs = 6,
            BatchSize = 16,
            LearningRate = 2e-3,
            Schedule = LearningRateSchedule.Cosine(),
            // COCO mAP@0.5 on the validation canvases after every epoch; keep the best epoch's weights.
            ValidationSet = validation,
            EarlyStopping = new EarlyStopping("ValidationMeanAveragePrecision50", patience: 3, restoreBestWeights: true),
            Callback = callback,
        };
        return mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ModelInput.Labels))
            .Append(mlContext.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ModelInput.ImagePath)))
            .Append(mlContext.MulticlassClassification.Trainers.ObjectDetector(options))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedClasses", "PredictedLabel"));
    }

    /// <summary>Prepares the validation rows like the training rows (keys from the training labels, images loaded), then fits.</summary>
    public static ITransformer Train(MLContext mlContext, IDataView trainingData, IDataView validationData, TrainingCallback? callback = null)
    {
        var preparation = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ModelInput.Labels))
            .Append(mlContext.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ModelInput.ImagePath)))
            .Fit(trainingData);
        var pipeline = BuildPipeline(mlContext, preparation.Transform(validationData), callback);
        return pipeline.Fit(trainingData);
    }
}

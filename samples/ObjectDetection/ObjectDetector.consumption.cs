using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Vision.Detection;

namespace ObjectDetection;

/// <summary>Consumption, Model Builder style: load the saved model once, predict many times. Needs no training code.</summary>
public static partial class ObjectDetector
{
    /// <summary>Where <c>Program</c> saves the model and where <see cref="Predict"/> loads it from.</summary>
    public static string ModelPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "object-detector.zip");

    /// <summary>One engine for the process, created on first use (not thread-safe: one per thread, or PredictionEnginePool).</summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, isThreadSafe: true);

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(ModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }

    /// <summary>Detects the objects of one image file.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    /// <summary>Writes <paramref name="input"/>'s image with the predicted boxes (coloured, with scores) and the true boxes (white) as a PNG.</summary>
    public static void Draw(ModelInput input, ModelOutput output, string pngPath)
    {
        using var image = MLImage.CreateFromFile(input.ImagePath);
        var detections = output.Score.Select((s, i) => new DetectedObject((uint)(i + 1), output.PredictedClasses[i], s,
            output.PredictedBoundingBoxes[4 * i], output.PredictedBoundingBoxes[4 * i + 1], output.PredictedBoundingBoxes[4 * i + 2], output.PredictedBoundingBoxes[4 * i + 3])).ToArray();
        using var drawn = DetectionDrawing.Draw(image, detections, input.Labels, input.Box);
        drawn.Save(pngPath);
    }
}

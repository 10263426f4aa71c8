using System;
using System.Linq;
using Microsoft.ML;

namespace ImageClassification;

/// <summary>How an application uses the saved model: load once, predict many times. Needs no training code.</summary>
public static class ModelConsumption
{
    /// <summary>Loads <paramref name="modelPath"/> and classifies one image file.</summary>
    public static ModelOutput Predict(string modelPath, string imagePath)
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(modelPath, out _);
        using var engine = mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
        return engine.Predict(new ModelInput { ImagePath = imagePath });
    }

    /// <summary>Prints the top three classes of a prediction.</summary>
    public static void Print(ModelOutput output, string[] classNames)
    {
        var top = output.Score.Select((p, i) => (p, i)).OrderByDescending(t => t.p).Take(3);
        Console.WriteLine($"  predicted {output.PredictedLabel} ({string.Join(", ", top.Select(t => $"{classNames[t.i]} {t.p:P1}"))})");
    }
}

using System;
using System.IO;
using System.Linq;
using Microsoft.ML;

namespace ImageClassification;

/// <summary>Consumption, Model Builder style: load the saved model once, predict many times. Needs no training code.</summary>
public static partial class ImageClassifier
{
    /// <summary>Where <c>Program</c> saves the model and where <see cref="Predict"/> loads it from.</summary>
    public static string ModelPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "image-classifier.zip");

    /// <summary>One engine for the process, created on first use (a <see cref="PredictionEngine{TSrc, TDst}"/> is not thread-safe:
    /// use one per thread, or ML.NET's PredictionEnginePool in ASP.NET).</summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, isThreadSafe: true);

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(ModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }

    /// <summary>Classifies one image file.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);

    /// <summary>The top three classes of a prediction, e.g. <c>Trouser 97.1 %, Dress 1.2 %, …</c>.</summary>
    public static string Top3(ModelOutput output, string[] classNames)
        => string.Join(", ", output.Score.Select((p, i) => (p, i)).OrderByDescending(t => t.p).Take(3).Select(t => $"{classNames[t.i]} {t.p:P1}"));
}

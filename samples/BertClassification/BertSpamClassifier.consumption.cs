using System;
using System.IO;
using Microsoft.ML;

namespace BertClassification;

/// <summary>Consumption, Model Builder style: load the saved model once, predict many times. Needs neither training code nor the ONNX model.</summary>
public static partial class BertSpamClassifier
{
    /// <summary>Where <c>Program</c> saves the model and where <see cref="Predict"/> loads it from.</summary>
    public static string ModelPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "bert-spam-classifier.zip");

    /// <summary>One engine for the process, created on first use (a <see cref="PredictionEngine{TSrc, TDst}"/> is not thread-safe:
    /// use one per thread, or ML.NET's PredictionEnginePool in ASP.NET).</summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, isThreadSafe: true);

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(ModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }

    /// <summary>Classifies one e-mail (subject line, a blank line, then the body).</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);
}

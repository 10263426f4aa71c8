using System;
using System.IO;
using Microsoft.ML;

namespace BertTagging;

/// <summary>Consumption, Model Builder style: load the saved model once, predict many times. Needs neither training code nor the ONNX model.</summary>
public static partial class BertTagger
{
    /// <summary>Where <c>Program</c> saves the model and where <see cref="Predict"/> loads it from.</summary>
    public static string ModelPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "bert-tagger.zip");

    /// <summary>One engine for the process, created on first use (not thread-safe: one per thread, or PredictionEnginePool).</summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, isThreadSafe: true);

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(ModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }

    /// <summary>Tags every word of one sentence.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);
}

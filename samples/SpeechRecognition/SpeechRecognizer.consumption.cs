using System;
using System.IO;
using Microsoft.ML;

namespace SpeechRecognition;

/// <summary>Consumption, Model Builder style: load the saved model once, transcribe many times. Needs no training code.</summary>
public static partial class SpeechRecognizer
{
    /// <summary>Where <c>Program</c> saves the model and where <see cref="Predict"/> loads it from.</summary>
    public static string ModelPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "speech-recognizer.zip");

    /// <summary>One engine for the process, created on first use (not thread-safe: one per thread).</summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(CreatePredictEngine, isThreadSafe: true);

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(ModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
    }

    /// <summary>Transcribes one WAV file.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);
}

using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text.Generation;

namespace TextGeneration;

/// <summary>Consumption, Model Builder style: load the saved model once, generate many times. Needs no training code.</summary>
public static partial class TextGenerator
{
    /// <summary>Where <c>Program</c> saves the model and where <see cref="Predict"/> loads it from.</summary>
    public static string ModelPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "text-generator.zip");

    private static readonly Lazy<(ITransformer Model, PredictionEngine<ModelInput, ModelOutput> Engine)> Loaded = new(() =>
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(ModelPath, out _);
        return (model, mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model));
    }, isThreadSafe: true);

    /// <summary>The continuation of one prompt with the sampling settings saved in the model (not thread-safe: one engine per process).</summary>
    public static ModelOutput Predict(ModelInput input) => Loaded.Value.Engine.Predict(input);

    /// <summary>The continuation of <paramref name="prompt"/> with other sampling settings, without retraining.</summary>
    public static string Generate(string prompt, GenerationOptions options)
        => Loaded.Value.Model.GetNetwork<LanguageModelTransformer>().Generate(prompt, options);
}

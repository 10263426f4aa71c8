using System;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Text.Generation;

namespace TextGeneration;

/// <summary>How an application uses the saved model: load once, generate many times. Needs no training code.</summary>
public static class ModelConsumption
{
    /// <summary>Loads <paramref name="modelPath"/> and prints sampled continuations of <paramref name="prompts"/>.</summary>
    public static void PrintContinuations(string modelPath, params string[] prompts)
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(modelPath, out _);
        using var engine = mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
        foreach (var prompt in prompts)
            Console.WriteLine($"  {(prompt.Length == 0 ? "(no prompt)" : prompt)} → {engine.Predict(new ModelInput { Text = prompt }).Continuation}");

        // Other sampling settings without retraining: the language model is the last step of the saved pipeline.
        var languageModel = ((Microsoft.ML.Data.TransformerChain<ITransformer>)model).OfType<LanguageModelTransformer>().Single();
        foreach (var seed in new[] { 1, 2, 3 })
            Console.WriteLine($"  seed {seed}: {languageModel.Generate("the computer", new GenerationOptions { Temperature = 0.9, TopK = 30, Seed = seed, MaxNewTokens = 25 })}");
    }
}

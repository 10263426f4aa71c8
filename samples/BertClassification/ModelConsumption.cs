using Microsoft.ML;

namespace BertClassification;

/// <summary>How an application uses the saved model: load once, predict many times. Needs neither training code nor the ONNX model.</summary>
public static class ModelConsumption
{
    /// <summary>Loads <paramref name="modelPath"/> (WordPiece vocabulary + fine-tuned encoder in one zip) and classifies one e-mail.</summary>
    public static ModelOutput Predict(string modelPath, string text)
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(modelPath, out _);
        using var engine = mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model);
        return engine.Predict(new ModelInput { Text = text });
    }
}

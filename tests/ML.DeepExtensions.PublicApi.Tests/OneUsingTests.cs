// Deliberately outside the ML.DeepExtensions namespaces and with one using of ours less than anything: the catalog
// methods of every package must be reachable with `using Microsoft.ML;` alone, as ML.NET's own extension packages are
// (issue 9). This file does not compile if a catalog class leaves the Microsoft.ML namespace.
using System.Linq;
using Microsoft.ML;
using Xunit;

namespace OneUsingApp;

public class OneUsingTests
{
    [Fact]
    public void EveryCatalogEntryPoint_IsReachableWithUsingMicrosoftMLAlone()
    {
        var mlContext = new MLContext(seed: 1);
        object[] estimators =
        [
            mlContext.Regression.Trainers.NeuralNetwork(),
            mlContext.BinaryClassification.Trainers.NeuralNetwork(),
            mlContext.BinaryClassification.Trainers.NeuralNetwork().AsTrainerEstimator(),
            mlContext.MulticlassClassification.Trainers.NeuralNetwork(),
            mlContext.MulticlassClassification.Trainers.CnnImageClassifier(),
            mlContext.MulticlassClassification.Trainers.ObjectDetector(),
            mlContext.BinaryClassification.Trainers.NeuralTextClassifier(),
            mlContext.MulticlassClassification.Trainers.NeuralTextClassifier(),
            mlContext.Regression.Trainers.NeuralTextRegressor(),
            mlContext.Transforms.Text.TokenizeToIds("Tokens", "Text"),
            mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Tokens", "Text"),
            mlContext.Transforms.LoadAudio("Audio", "AudioPath"),
            mlContext.SpeechRecognition().Trainers.SpeechRecognizer(),
        ];
        Assert.All(estimators, e => Assert.StartsWith("ML.DeepExtensions", e.GetType().Namespace));
        Assert.Equal(estimators.Length, estimators.Select(e => e.GetType()).Distinct().Count());
    }
}

using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Tests.Generation;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Onnx;

/// <summary>The language model's ExportToOnnx: the logits at the context's position give the model's own next-token log-probabilities.</summary>
public class LanguageModelOnnxTests
{
    [Fact]
    public void LanguageModel_ExportToOnnx_LogitsGiveTheModelsNextTokenLogProbabilities()
    {
        var mlContext = new MLContext(seed: 1);
        var texts = TestData.Texts(mlContext, Fortunes.Training.Take(200));
        var model = mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Tokens", "Text", maxVocabularySize: 200, maxLength: 12)
            .Append(mlContext.Transforms.Text.TrainLanguageModel(new LanguageModelOptions { Dimensions = 16, Layers = 2, Heads = 2, Epochs = 1, BatchSize = 32 }))
            .Fit(texts).LastTransformer;
        using var stream = new MemoryStream();
        model.ExportToOnnx(stream);
        using var session = new InferenceSession(stream.ToArray());
        Assert.Equal(model.VocabularySize.ToString(System.Globalization.CultureInfo.InvariantCulture), session.ModelMetadata.CustomMetadataMap["vocabulary_size"]);

        foreach (var prompt in new[] { "the", "you will", "" })
        {
            var expected = model.NextTokenLogProbabilities(prompt);
            // The window the model builds: the padding id, the prompt's ids (the model's own context policy), padding.
            var ids = model.PromptIds(prompt);
            var window = Enumerable.Repeat((float)model.Tokenizer.PaddingId, model.MaxLength).ToArray();
            for (var i = 0; i < ids.Length; i++)
                window[1 + i] = ids[i];
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("Tokens", new DenseTensor<float>(window, [1, model.MaxLength]))]);
            var logits = results.Single().AsTensor<float>();
            var row = Enumerable.Range(0, model.VocabularySize).Select(v => (double)logits[0, ids.Length, v]).ToArray();
            var max = row.Max();
            var logSum = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            var actual = row.Select(v => (float)(v - logSum)).ToArray();
            Assert.True(expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)) <= 1e-4f, $"prompt '{prompt}'");
        }
    }
}

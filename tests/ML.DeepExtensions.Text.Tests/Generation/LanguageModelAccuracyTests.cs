using Microsoft.ML;
using System.Linq;
using ML.DeepExtensions.Text.Generation;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Text.Tests.Generation;

[Collection(FortunesCollection.Name)]
public class LanguageModelAccuracyTests(FortunesModel fortunes, ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Accuracy")]
    public void HeldOutPerplexity_BeatsTheUnigramBaseline_ByAFactorOf0Point6()
    {
        var model = fortunes.MLContext.Transforms.Text.EvaluateLanguageModel(fortunes.Model, fortunes.TestData_);
        var unigram = LanguageModelMetrics.Unigram(fortunes.Tokenizer, fortunes.TrainingData, fortunes.TestData_);
        var trainingPerplexity = fortunes.Model.History[^1].Training["Perplexity"];
        output.WriteLine($"Trained in {fortunes.TrainingTime.TotalSeconds:F1} s; vocabulary {fortunes.Tokenizer.VocabularySize}; final training perplexity {trainingPerplexity:F1}");
        output.WriteLine($"Held-out: model {model}; unigram {unigram}");
        foreach (var prompt in new[] { "", "the computer", "a scientist is", "politics" })
            output.WriteLine($"'{prompt}' → '{fortunes.Model.Generate(prompt)}'");

        Assert.Equal(unigram.Tokens, model.Tokens);
        Assert.True(model.Perplexity < 0.6 * unigram.Perplexity,
            $"model perplexity {model.Perplexity:F1} should be below 0.6 × the unigram baseline's {unigram.Perplexity:F1}");
    }
}

using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Tests.Generation;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Reliability;

/// <summary>Issue 10: generation with an unbounded MaxNewTokens can be stopped (it ran 90 s with no way to cancel).</summary>
[Trait("Category", "Reliability")]
[Trait("Category", "Slow")]   // trains a tiny language model first: 5–17 s on the shared 2-core machine
public class GenerationReliabilityTests
{
    [Fact]
    public void Generate_WithMaxNewTokensIntMaxValue_StopsWhenCancelled()
    {
        var mlContext = new MLContext(seed: 3);
        var options = new LanguageModelOptions { Dimensions = 16, Layers = 1, Heads = 2, Epochs = 1, BatchSize = 32 };
        var model = mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Tokens", "Text", maxVocabularySize: 300, maxLength: 16)
            .Append(mlContext.Transforms.Text.TrainLanguageModel(options))
            .Fit(TestData.Texts(mlContext, Fortunes.Training.Take(200))).LastTransformer;
        // Greedy decoding of a barely trained model: pick a prompt whose continuation does not end within 64 tokens,
        // so that int.MaxValue really is unbounded for it (the window slides past the 16-token context).
        var greedy = new GenerationOptions { Temperature = 0, MaxNewTokens = 64 };
        var prompt = new[] { "the", "a", "you", "never", "life is", "the computer" }
            .FirstOrDefault(p => model.Generate(p, greedy).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= 32);
        Assert.NotNull(prompt);

        var unbounded = new GenerationOptions { Temperature = 0, MaxNewTokens = int.MaxValue };
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var clock = Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() => model.Generate([prompt!], unbounded, cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopped after {clock.Elapsed}");
    }

    [Fact]
    public void Generate_OnAOneMegabytePromptOfOneCharacter_TakesWorkBoundedByTheContext()
    {
        // GPT-2 BPE on one long run of a character is quadratic in the run: a 1 M-character prompt took over 120 s when
        // the whole prompt was tokenized before keeping its last MaxLength − 1 tokens.
        var mlContext = new MLContext(seed: 5);
        var options = new LanguageModelOptions { Dimensions = 8, Layers = 1, Heads = 2, Epochs = 1, BatchSize = 32 };
        using var model = mlContext.Transforms.Text.TokenizeToIds("Tokens", "Text", maxLength: 16)
            .Append(mlContext.Transforms.Text.TrainLanguageModel(options))
            .Fit(TestData.Texts(mlContext, Fortunes.Training.Take(40))).LastTransformer;
        var greedy = new GenerationOptions { Temperature = 0, MaxNewTokens = 2 };
        var prompt = new string('a', 1_000_000);
        var clock = Stopwatch.StartNew();
        var continuation = model.Generate(prompt, greedy);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"generating after a 1 MB prompt took {clock.Elapsed}");
        // The same window as a prompt that is only the prompt's end: the context is its last 15 tokens either way.
        Assert.Equal(model.Generate(prompt[^4096..], greedy), continuation);
    }
}

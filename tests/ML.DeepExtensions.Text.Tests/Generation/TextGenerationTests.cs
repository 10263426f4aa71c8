using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Text.Generation;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Generation;

[Collection(FortunesCollection.Name)]
public class TextGenerationTests(FortunesModel fortunes)
{
    private static readonly string[] Prompts = ["the computer", "science is", "a man", "", "never trust"];

    private LanguageModelTransformer Model => fortunes.Model;

    private static GenerationOptions Sampling(int seed, int maxNewTokens = 12) => new() { Temperature = 1.0, TopK = 50, Seed = seed, MaxNewTokens = maxNewTokens };

    public sealed class PromptRow
    {
        public string? Text { get; set; }
    }

    public sealed class ContinuationRow
    {
        public string Continuation { get; set; } = "";
    }

    [Fact]
    public void GeneratingForHundredsOfRows_LeavesNoNativeTensorsBehind()
    {
        var prompts = Fortunes.Training.Take(200).Select(t => new PromptRow { Text = string.Join(' ', t.Split(' ').Take(3)) }).ToArray();
        var data = fortunes.MLContext.Data.LoadFromEnumerable(prompts);
        var options = Sampling(7, maxNewTokens: 6);
        Model.Generate(["warm up"], options);
        var before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var generated = Model.Generate(prompts.Select(p => p.Text!).ToArray(), options);
        var transformed = fortunes.Chain.Transform(data).GetColumn<string>("Continuation").ToArray();
        var engine = fortunes.MLContext.Model.CreatePredictionEngine<PromptRow, ContinuationRow>(fortunes.Chain);
        var alone = prompts.Take(70).Select(prompt => engine.Predict(prompt).Continuation).ToArray();
        var after = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.Equal(200, generated.Count);
        // Transform generates cursor batches of 64 prompts together: the same text as Generate and as one row at a time
        // (PredictionEngine), across the batch boundary.
        Assert.Equal(Model.Generate(prompts.Select(p => p.Text!).ToArray()), transformed);
        Assert.Equal(alone, transformed.Take(70));
        Assert.Equal(before, after);
    }

    [Fact]
    public void Generation_IsDeterministicForASeed_AndSeedsDiffer()
    {
        var first = Model.Generate(Prompts, Sampling(3));
        Assert.Equal(first, Model.Generate(Prompts, Sampling(3)));
        var others = Enumerable.Range(4, 4).Select(seed => Model.Generate(Prompts, Sampling(seed))).ToArray();
        Assert.Contains(others, o => !o.SequenceEqual(first));
        Assert.All(first, text => Assert.False(string.IsNullOrWhiteSpace(text)));
    }

    [Fact]
    public void Generation_IsTheSame_AloneBatchedInTransformAndInPredictionEngine()
    {
        var batched = Model.Generate(Prompts);
        var alone = Prompts.Select(p => Model.Generate(p)).ToArray();
        Assert.Equal(alone, batched);

        var data = fortunes.MLContext.Data.LoadFromEnumerable(Prompts.Select(p => new PromptRow { Text = p }));
        var transformed = fortunes.Chain.Transform(data).GetColumn<string>("Continuation").ToArray();
        Assert.Equal(batched, transformed);

        var engine = fortunes.MLContext.Model.CreatePredictionEngine<PromptRow, ContinuationRow>(fortunes.Chain);
        Assert.Equal(batched, Prompts.Select(p => engine.Predict(new PromptRow { Text = p }).Continuation).ToArray());
    }

    [Fact]
    public void Greedy_TakesTheMostLikelyToken_AndTopKOneEqualsGreedy()
    {
        var greedy = new GenerationOptions { Temperature = 0, MaxNewTokens = 1 };
        foreach (var prompt in Prompts)
        {
            var logProbabilities = Model.NextTokenLogProbabilities(prompt);
            Assert.Equal(1, logProbabilities.Sum(p => Math.Exp(p)), 3);
            logProbabilities[fortunes.Tokenizer.UnknownTokenId!.Value] = float.NegativeInfinity;
            var best = Array.IndexOf(logProbabilities, logProbabilities.Max());
            var expected = best == fortunes.Tokenizer.PaddingId ? "" : fortunes.Tokenizer.Decode([best]);
            Assert.Equal(expected, Model.Generate(prompt, greedy));
        }
        var longGreedy = new GenerationOptions { Temperature = 0, MaxNewTokens = 15 };
        var topOne = new GenerationOptions { Temperature = 1.5, TopK = 1, Seed = 11, MaxNewTokens = 15 };
        Assert.Equal(Model.Generate(Prompts, longGreedy), Model.Generate(Prompts, topOne));
    }

    [Fact]
    public void MaxNewTokens_IsRespected_AndGenerationStopsAtEndOfText()
    {
        Assert.All(Model.Generate(Prompts, Sampling(5, maxNewTokens: 0)), text => Assert.Equal("", text));
        Assert.All(Model.Generate(Prompts, Sampling(5, maxNewTokens: 4)),
            text => Assert.InRange(fortunes.Tokenizer.EncodeToIds(text).Length, 1, 4));

        // Quotations are short: with room for 200 tokens, most sampled continuations end by predicting the end of text.
        var starts = Fortunes.Test.Take(20).Select(t => string.Join(' ', t.Split(' ').Take(3))).ToArray();
        var lengths = Model.Generate(starts, Sampling(9, maxNewTokens: 200)).Select(t => fortunes.Tokenizer.EncodeToIds(t).Length).ToArray();
        Assert.True(lengths.Count(n => n < 200) >= 15, $"continuation lengths: {string.Join(", ", lengths)}");
    }

    [Fact]
    public void MinNewTokens_KeepsTheTextGoing_UntilThatManyTokens()
    {
        var starts = Fortunes.Test.Take(20).Select(t => string.Join(' ', t.Split(' ').Take(3))).ToArray();
        var free = Model.Generate(starts, Sampling(9, maxNewTokens: 40)).Select(t => fortunes.Tokenizer.EncodeToIds(t).Length).ToArray();
        Assert.Contains(free, n => n < 30); // without it, some texts end early
        var options = Sampling(9, maxNewTokens: 40);
        options.MinNewTokens = 30;
        var held = Model.Generate(starts, options).Select(t => fortunes.Tokenizer.EncodeToIds(t).Length).ToArray();
        Assert.All(held, n => Assert.InRange(n, 30, 40));
        Assert.Throws<ArgumentOutOfRangeException>(() => Model.Generate("a", new GenerationOptions { MaxNewTokens = 5, MinNewTokens = 6 }));
    }

    [Fact]
    public void NullAndEmptyPrompts_StartATextFromNothing()
    {
        var options = Sampling(2);
        Assert.Equal(Model.Generate("", options), Model.Generate((string?)null, options));
        var engine = fortunes.MLContext.Model.CreatePredictionEngine<PromptRow, ContinuationRow>(fortunes.Chain.WithGenerationOnLast(options));
        Assert.Equal(Model.Generate("", options), engine.Predict(new PromptRow { Text = null }).Continuation);
    }

    [Fact]
    public void OverLongPrompt_KeepsItsLastMaxLengthMinusOneTokens()
    {
        var words = fortunes.Tokenizer.Words!.Skip(2).Take(200).ToArray();
        var longPrompt = string.Join(' ', words);
        var tail = string.Join(' ', words.TakeLast(FortunesModel.MaxLength - 1));
        Assert.Equal(FortunesModel.MaxLength - 1, fortunes.Tokenizer.EncodeToIds(tail).Length);
        Assert.Equal(Model.NextTokenLogProbabilities(tail), Model.NextTokenLogProbabilities(longPrompt));
        Assert.Equal(Model.Generate(tail, Sampling(1)), Model.Generate(longPrompt, Sampling(1)));
        // A shorter tail is a different context: the test can tell them apart.
        Assert.NotEqual(Model.NextTokenLogProbabilities(string.Join(' ', words.TakeLast(FortunesModel.MaxLength - 2))), Model.NextTokenLogProbabilities(longPrompt));
    }

    [Fact]
    public void MissingPromptColumn_ThrowsNamingIt()
    {
        var data = fortunes.MLContext.Data.LoadFromEnumerable(new[] { new ContinuationRow() });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Model.Transform(data));
        Assert.Contains("'Text'", ex.Message);
        var renamed = Model.WithGeneration(new GenerationOptions { PromptColumnName = "Prompt" });
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => renamed.GetOutputSchema(fortunes.TrainingData.Schema));
        Assert.Contains("'Prompt'", missing.Message);
    }

    [Fact]
    public void Evaluate_PredictsEveryTokenAndTheEndOfEachTextThatFits()
    {
        var texts = Fortunes.Test.Take(50).ToArray();
        var expected = texts.Select(t => fortunes.Tokenizer.EncodeToIds(t).Length).Where(n => n > 0).Sum(n => Math.Min(n + 1, FortunesModel.MaxLength));
        var metrics = Model.Evaluate(TestData.Texts(fortunes.MLContext, texts));
        Assert.Equal(expected, metrics.Tokens);
        Assert.Equal(50, metrics.Texts);
        Assert.Equal(Math.Exp(metrics.CrossEntropy), metrics.Perplexity, 6);
        var unigram = LanguageModelMetrics.Unigram(fortunes.Tokenizer, fortunes.TrainingData, TestData.Texts(fortunes.MLContext, texts));
        Assert.InRange(unigram.Perplexity, 10, fortunes.Tokenizer.VocabularySize);
    }

    [Fact]
    public void History_ReportsTokenPerplexity()
    {
        var history = Model.History;
        Assert.Equal(FortunesModel.Options().Epochs, history.Count);
        Assert.True(history[^1].Training["Perplexity"] < history[0].Training["Perplexity"]);
        Assert.Equal(Math.Exp(history[^1].Training["CrossEntropy"]), history[^1].Training["Perplexity"], 6);
    }
}

internal static class ChainExtensions
{
    /// <summary>The chain with other generation settings on its language model.</summary>
    public static ITransformer WithGenerationOnLast(this Microsoft.ML.Data.TransformerChain<LanguageModelTransformer> chain, GenerationOptions options)
        => new Microsoft.ML.Data.TransformerChain<ITransformer>(chain.Take(chain.Count() - 1).Append(chain.LastTransformer.WithGeneration(options)).ToArray());
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Training;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Generation;

/// <summary>Engine options and bad inputs, on tiny models and the first 300 training quotations.</summary>
public class LanguageModelTrainerTests
{
    private static EstimatorChain<LanguageModelTransformer> Pipeline(MLContext mlContext, LanguageModelOptions options)
        => mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Tokens", "Text", maxVocabularySize: 300, maxLength: 16)
            .Append(mlContext.Transforms.Text.TrainLanguageModel(options));

    private static LanguageModelOptions Tiny(int epochs = 2) => new() { Dimensions = 16, Layers = 1, Heads = 2, Epochs = epochs, BatchSize = 32 };

    private static IDataView Texts(MLContext mlContext, int count = 300) => TestData.Texts(mlContext, Fortunes.Training.Take(count));

    [Fact]
    public void SameSeed_GivesTheSameModel_AndValidationAndProgressAreReported()
    {
        var reported = new List<EpochMetrics>();
        LanguageModelTransformer Train(List<EpochMetrics>? progress)
        {
            var mlContext = new MLContext(seed: 3);
            var options = Tiny(epochs: 3);
            options.ValidationFraction = 0.2;
            options.EarlyStopping = new EarlyStopping("ValidationLoss", patience: 5);
            options.Progress = progress is null ? null : new SynchronousProgress(progress);
            return Pipeline(mlContext, options).Fit(Texts(mlContext)).LastTransformer;
        }
        var first = Train(reported);
        var second = Train(null);
        Assert.Equal(3, reported.Count);
        Assert.All(reported, m => Assert.True(m.Validation["Perplexity"] > 1));
        Assert.Equal(first.NextTokenLogProbabilities("the"), second.NextTokenLogProbabilities("the"));
    }

    [Fact]
    public void Cancellation_StopsTraining()
    {
        var mlContext = new MLContext(seed: 1);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var options = Tiny();
        options.CancellationToken = cancel.Token;
        Assert.ThrowsAny<OperationCanceledException>(() => Pipeline(mlContext, options).Fit(Texts(mlContext)));
    }

    [Fact]
    public void TokenColumnWithoutTokenizer_ThrowsSayingWhatToDo()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(new[] { new IdRow { Tokens = [3, 4, 0, 0] } });
        var ex = Assert.Throws<ArgumentException>(() => mlContext.Transforms.Text.TrainLanguageModel(Tiny()).Fit(data));
        Assert.Contains("No tokenizer produced token-id column 'Tokens'", ex.Message);
    }

    [Fact]
    public void MissingOrWrongTokenColumn_ThrowsNamingIt()
    {
        var mlContext = new MLContext(seed: 1);
        var options = Tiny();
        options.TokenColumnName = "Ids";
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => Pipeline(mlContext, options).Fit(Texts(mlContext, 20)));
        Assert.Contains("'Ids'", missing.Message);
        options.TokenColumnName = "Text";
        var wrongType = Assert.Throws<ArgumentOutOfRangeException>(() => Pipeline(mlContext, options).Fit(Texts(mlContext, 20)));
        Assert.Contains("Schema mismatch for token-id column 'Text'", wrongType.Message);
    }

    [Fact]
    public void OnlyEmptyTexts_ThrowInvalidData()
    {
        var mlContext = new MLContext(seed: 1);
        var ex = Assert.Throws<System.IO.InvalidDataException>(() => Pipeline(mlContext, Tiny()).Fit(TestData.Texts(mlContext, ["", "  ", ""])));
        Assert.Contains("no row with tokens", ex.Message);
    }

    [Fact]
    public void BadOptions_ThrowNamingTheSetting()
    {
        var mlContext = new MLContext();
        Assert.Contains("Heads", Assert.Throws<ArgumentException>(() => mlContext.Transforms.Text.TrainLanguageModel(dimensions: 30, heads: 4)).Message);
        Assert.Contains("Temperature", Assert.ThrowsAny<ArgumentException>(() => mlContext.Transforms.Text.TrainLanguageModel(new LanguageModelOptions
        {
            Generation = new GenerationOptions { Temperature = -1 },
        })).Message);
        Assert.Contains("Streaming", Assert.Throws<ArgumentException>(() => mlContext.Transforms.Text.TrainLanguageModel(new LanguageModelOptions
        {
            DataLoading = DataLoading.Streaming,
        })).Message);
    }

    [Fact]
    public void Gpt2TokensWithEndOfText_Train_AndPromptsDropTheAppendedEndToken()
    {
        var mlContext = new MLContext(seed: 2);
        var tokenizer = mlContext.Transforms.Text.TokenizeToIds(new ML.DeepExtensions.Text.Tokenization.TiktokenTokenizationOptions
        {
            OutputColumnName = "Tokens", InputColumnName = "Text", MaxLength = 12, AppendEndOfText = true,
        });
        var model = tokenizer.Append(mlContext.Transforms.Text.TrainLanguageModel(new LanguageModelOptions { Dimensions = 8, Layers = 1, Heads = 2, Epochs = 1 }))
            .Fit(Texts(mlContext, 40)).LastTransformer;
        Assert.Equal(50258, model.VocabularySize);
        var encoded = model.Tokenizer.EncodeToIds("the computer");
        Assert.Equal(50256, encoded[^1]);
        Assert.Equal(encoded[..^1], model.PromptIds("the computer"));
        Assert.Equal(50258, model.NextTokenLogProbabilities("the computer").Length);
        var text = model.Generate("the computer", new GenerationOptions { MaxNewTokens = 3, Seed = 1 });
        Assert.DoesNotContain("<|endoftext|>", text);
    }

    private sealed class IdRow
    {
        [Microsoft.ML.Data.VectorType(4)]
        public int[] Tokens { get; set; } = [];
    }

    private sealed class SynchronousProgress(List<EpochMetrics> sink) : IProgress<EpochMetrics>
    {
        public void Report(EpochMetrics value) => sink.Add(value);
    }
}

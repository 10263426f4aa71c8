using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Tokenization;

namespace ML.DeepExtensions.Text.Tests.Generation;

/// <summary>The committed fortunes subset (data/fortunes/fortunes.tsv), split 90/10 by position: every tenth quotation is held out.</summary>
internal static class Fortunes
{
    private static readonly Lazy<string[]> All = new(() => File.ReadLines(TestData.RepoFile("data/fortunes/fortunes.tsv"))
        .Skip(1).Select(line => line[(line.IndexOf('\t') + 1)..]).ToArray());

    public static IReadOnlyList<string> Training => All.Value.Where((_, i) => i % 10 != 0).ToArray();

    public static IReadOnlyList<string> Test => All.Value.Where((_, i) => i % 10 == 0).ToArray();
}

/// <summary>The generation test classes share one trained model.</summary>
[Xunit.CollectionDefinition(Name)]
public sealed class FortunesCollection : Xunit.ICollectionFixture<FortunesModel>
{
    public const string Name = "Fortunes language model";
}

/// <summary>
/// One language model trained once for the generation tests (xunit collection fixture): a word vocabulary learned on the
/// training quotations (≤ 1,000 words, ≥ 2 occurrences, 24 tokens per text), then a 2-block, 48-wide causal
/// Transformer trained for a few epochs with MLContext seed 1.
/// </summary>
public sealed class FortunesModel
{
    public const int MaxLength = 24;

    public FortunesModel()
    {
        MLContext = new MLContext(seed: 1);
        TrainingData = TestData.Texts(MLContext, Fortunes.Training);
        TestData_ = TestData.Texts(MLContext, Fortunes.Test);
        var pipeline = MLContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Tokens", "Text", maxVocabularySize: 1000, minFrequency: 2, maxLength: MaxLength)
            .Append(MLContext.Transforms.Text.TrainLanguageModel(Options()));
        // No change to torch's process-wide thread count here: test classes run in parallel, and a fixture that switched it
        // while another class trained the same model twice made that class's "same seed → same weights" check fail on the
        // last float bit (CI, 2026-11-30). Intra-op threads change the order of reductions, hence the result.
        var clock = Stopwatch.StartNew();
        Chain = pipeline.Fit(TrainingData);
        TrainingTime = clock.Elapsed;
        Model = Chain.LastTransformer;
        Tokenizer = Model.Tokenizer;
    }

    public static LanguageModelOptions Options() => new()
    {
        TokenColumnName = "Tokens",
        Dimensions = 48,
        Layers = 2,
        Heads = 4,
        Dropout = 0.1,
        Epochs = 4,
        BatchSize = 32,
        LearningRate = 3e-3,
        Optimizer = Training.OptimizerKind.AdamW,
        Schedule = Training.LearningRateSchedule.Cosine(),
        GradientClipNorm = 1.0,
        Generation = new GenerationOptions { MaxNewTokens = 20, Temperature = 0.8, TopK = 40, Seed = 7 },
    };

    public MLContext MLContext { get; }

    public IDataView TrainingData { get; }

    public IDataView TestData_ { get; }

    public TransformerChain<LanguageModelTransformer> Chain { get; }

    public LanguageModelTransformer Model { get; }

    public TokenizingTransformer Tokenizer { get; }

    public TimeSpan TrainingTime { get; }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.TestSupport.Contract;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Tests.Classification;
using ML.DeepExtensions.Text.Tests.Generation;
using ML.DeepExtensions.Text.Tests.Pretrained;
using ML.DeepExtensions.Text.Similarity;
using ML.DeepExtensions.Text.Tagging;
using ML.DeepExtensions.Text.Tests.Tagging;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Text.Tests.Contract;

/// <summary>The estimator contract (tests/Shared/Contract) over the Text package's estimators: one line per estimator.</summary>
public sealed class TextContractTests : EstimatorContractTests<TextContractTests>, IEstimatorCases
{
    /// <summary>A small BERT vocab.txt (ids are line numbers), written once beside the tests.</summary>
    private static readonly Lazy<string> WordPieceVocabulary = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "contract-wordpiece-vocab.txt");
        File.WriteAllLines(path, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "of", "to", "is", "you", "it", "and", "in", "##s", "##ing", "##ed", "computer", "science", "program", ".", ",", "'"]);
        return path;
    });

    public static IReadOnlyList<EstimatorCase> All { get; } =
    [
        new("BinaryClassification.NeuralTextClassifier", ml => ml.BinaryClassification.Trainers.NeuralTextClassifier(new NeuralTextBinaryOptions { Network = TextEncoder.Lstm(hiddenSize: 8), EmbeddingDimensions = 8, MaxLength = 32, MinFrequency = 1, Epochs = 1 }), Emails, ["Text", "Label"], [new("Tokenizer", ml => ml.BinaryClassification.Trainers.NeuralTextClassifier(new NeuralTextBinaryOptions { Tokenizer = ml.Transforms.Text.TokenizeToIdsWithWordVocabulary("Ids", "Subject") })), new("Dropout", ml => ml.BinaryClassification.Trainers.NeuralTextClassifier(new NeuralTextBinaryOptions { Dropout = 1 }))]),
        new("MulticlassClassification.NeuralTextClassifier", ml => ml.MulticlassClassification.Trainers.NeuralTextClassifier(new NeuralTextMulticlassOptions { Network = TextEncoder.Gru(hiddenSize: 8), EmbeddingDimensions = 8, MaxLength = 32, MinFrequency = 1, Epochs = 1 }), Quotes, ["Text", "Label"], [new("ClassWeights", ml => ml.MulticlassClassification.Trainers.NeuralTextClassifier(new NeuralTextMulticlassOptions { ClassWeights = [-1f, 1f] })), new("LabelSmoothing", ml => ml.MulticlassClassification.Trainers.NeuralTextClassifier(new NeuralTextMulticlassOptions { LabelSmoothing = -0.5 }))]),
        new("Regression.NeuralTextRegressor", ml => ml.Regression.Trainers.NeuralTextRegressor(new NeuralTextRegressionOptions { Network = TextEncoder.Transformer(layers: 1, heads: 2), EmbeddingDimensions = 8, MaxLength = 32, MinFrequency = 1, Epochs = 1 }), SpamScores, ["Text", "Label"], [new("Loss", ml => ml.Regression.Trainers.NeuralTextRegressor(new NeuralTextRegressionOptions { Loss = (RegressionLoss)42 })), new("EmbeddingDimensions", ml => ml.Regression.Trainers.NeuralTextRegressor(new NeuralTextRegressionOptions { EmbeddingDimensions = 0 }))]),
        new("Text.TokenizeToIds", ml => ml.Transforms.Text.TokenizeToIds(new TiktokenTokenizationOptions { OutputColumnName = "Ids", InputColumnName = "Text", MaxLength = 24, AddLengthColumn = true, AddMaskColumn = true }), Sentences, ["Text"], [new("MaxLength", ml => ml.Transforms.Text.TokenizeToIds("Ids", "Text", maxLength: 0)), new("Vocabulary", ml => ml.Transforms.Text.TokenizeToIds("Ids", "Text", (TiktokenVocabulary)7))]),
        new("Text.TokenizeToIdsWithBpe", ml => ml.Transforms.Text.TokenizeToIdsWithBpe("Ids", TestData.Gpt2Encoder, TestData.Gpt2Merges, "Text", maxLength: 24), Sentences, ["Text"], [new("VocabularyPath", ml => ml.Transforms.Text.TokenizeToIdsWithBpe("Ids", "", TestData.Gpt2Merges, "Text")), new("MaxLength", ml => ml.Transforms.Text.TokenizeToIdsWithBpe("Ids", TestData.Gpt2Encoder, TestData.Gpt2Merges, "Text", maxLength: -1))]),
        new("Text.TokenizeToIdsWithWordPiece", ml => ml.Transforms.Text.TokenizeToIdsWithWordPiece("Ids", WordPieceVocabulary.Value, "Text", maxLength: 24), Sentences, ["Text"], [new("MaxLength", ml => ml.Transforms.Text.TokenizeToIdsWithWordPiece("Ids", WordPieceVocabulary.Value, "Text", maxLength: 2))]),
        new("Text.TokenizeToIdsWithWordVocabulary", ml => ml.Transforms.Text.TokenizeToIdsWithWordVocabulary("Ids", "Text", maxVocabularySize: 300, maxLength: 24), Sentences, ["Text"], [new("MinFrequency", ml => ml.Transforms.Text.TokenizeToIdsWithWordVocabulary("Ids", "Text", minFrequency: 0)), new("MaxVocabularySize", ml => ml.Transforms.Text.TokenizeToIdsWithWordVocabulary("Ids", "Text", maxVocabularySize: 2))]),
        new("BinaryClassification.NeuralTextClassifier.MiniLM", ml => ml.BinaryClassification.Trainers.NeuralTextClassifier(new NeuralTextBinaryOptions { Network = TextEncoder.PretrainedBert(MiniLMData.MiniLM), MaxLength = 24, Epochs = 1, LearningRate = 5e-5 }), Emails, ["Text", "Label"], [new("MaxLength", ml => ml.BinaryClassification.Trainers.NeuralTextClassifier(new NeuralTextBinaryOptions { Network = TextEncoder.PretrainedBert(MiniLMData.MiniLM), MaxLength = 513 }))]),
        new("Text.EmbedSentences", ml => ml.Transforms.Text.EmbedSentences(MiniLMData.MiniLM, "Features", "Text", maxLength: 32), Sentences, ["Text"], [new("maxLength", ml => ml.Transforms.Text.EmbedSentences(MiniLMData.MiniLM, "Features", "Text", maxLength: 513)), new("batchSize", ml => ml.Transforms.Text.EmbedSentences(MiniLMData.MiniLM, batchSize: 0))]),
        new("Regression.NeuralSentenceSimilarity", ml => ml.Regression.Trainers.NeuralSentenceSimilarity(new NeuralSentenceSimilarityOptions { Encoder = MiniLMData.MiniLM, MaxLength = 24, Epochs = 1, LearningRate = 5e-5 }), Pairs, ["Sentence1", "Sentence2", "Label"], [new("MaxLength", ml => ml.Regression.Trainers.NeuralSentenceSimilarity(new NeuralSentenceSimilarityOptions { Encoder = MiniLMData.MiniLM, MaxLength = 600 })), new("Encoder", ml => ml.Regression.Trainers.NeuralSentenceSimilarity(new NeuralSentenceSimilarityOptions()))]),
        new("MulticlassClassification.NeuralTokenClassifier", ml => ml.MulticlassClassification.Trainers.NeuralTokenClassifier(new NeuralTokenClassifierOptions { Encoder = MiniLMData.MiniLM, MaxLength = 64, Epochs = 1, LearningRate = 5e-5 }), TaggedSentences, ["Sentence", "Label"], [new("MaxLength", ml => ml.MulticlassClassification.Trainers.NeuralTokenClassifier(new NeuralTokenClassifierOptions { Encoder = MiniLMData.MiniLM, MaxLength = 600 })), new("Encoder", ml => ml.MulticlassClassification.Trainers.NeuralTokenClassifier(new NeuralTokenClassifierOptions()))]),
        new("Text.TrainLanguageModel", ml => ml.Transforms.Text.TrainLanguageModel(new LanguageModelOptions { Dimensions = 16, Layers = 1, Heads = 2, Epochs = 1, Generation = new GenerationOptions { MaxNewTokens = 3 } }), TokenizedFortunes, ["Tokens"], [new("Heads", ml => ml.Transforms.Text.TrainLanguageModel(new LanguageModelOptions { Dimensions = 16, Heads = 3 })), new("TopK", ml => ml.Transforms.Text.TrainLanguageModel(new LanguageModelOptions { Generation = new GenerationOptions { TopK = -1 } }))]),
    ];

    /// <summary>96 SpamAssassin e-mails (seeded sample): Text, Label (Boolean spam), Id, Group.</summary>
    private static CaseData Emails(MLContext mlContext) => new(TextData.Load(mlContext, FewEmails));

    /// <summary>The same e-mails with Label = 1 for spam, 0 for ham (Single).</summary>
    private static CaseData SpamScores(MLContext mlContext)
        => new(TextData.Load(mlContext, FewEmails.Select(e => new TextData.Scored { Text = e.Text, Label = e.Label ? 1 : 0 })));

    /// <summary>80 fortunes quotations, 'computers' or 'science': Label = the topic as a key.</summary>
    private static CaseData Quotes(MLContext mlContext)
        => new(TextData.Load(mlContext, TextData.Quotes), mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TextData.Quote.Topic)));

    /// <summary>48 real sentence pairs (fortune halves, own vs another's second half): Sentence1, Sentence2, Label (Single).</summary>
    private static CaseData Pairs(MLContext mlContext) => new(mlContext.Data.LoadFromEnumerable(SentencePairs.Build(24, 4).Train));

    /// <summary>24 real sentences tagged word by word (see <see cref="RuleTaggedSentences"/>): Sentence, Label (a key vector over the tags).</summary>
    private static CaseData TaggedSentences(MLContext mlContext) => new(RuleTaggedSentences.Load(mlContext, RuleTaggedSentences.Build(24, 0).Train));

    /// <summary>86 real sentences (fortunes quotations plus contractions, digits, white space, non-ASCII): Text and its Line number.</summary>
    private static CaseData Sentences(MLContext mlContext)
        => new(mlContext.Data.LoadFromEnumerable(TestData.Sentences.Select((t, i) => new Sentence { Line = i, Text = t }).ToList()));

    /// <summary>32 fortunes quotations tokenized into Tokens by a learned word vocabulary (16 ids each).</summary>
    private static CaseData TokenizedFortunes(MLContext mlContext)
        => new(TestData.Texts(mlContext, Fortunes.Training.Take(32)),
            mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Tokens", "Text", maxVocabularySize: 400, maxLength: 16));

    private static IReadOnlyList<TextData.Email> FewEmails => TextData.Split(TextData.Emails, 1 - 96.0 / TextData.Emails.Count, seed: 11).Train;

    public sealed class Sentence
    {
        public int Line { get; set; }

        public string Text { get; set; } = "";
    }
}

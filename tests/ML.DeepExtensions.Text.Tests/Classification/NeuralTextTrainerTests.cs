using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.TestSupport;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Text.Tokenization;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Classification;

/// <summary>
/// The three neural text trainers end to end on small real data (SpamAssassin e-mails, fortunes quotations):
/// standard output columns with ML.NET's evaluators, PredictionEngine and MapKeyToValue, one chain holding
/// tokenizer + network, padding invariance through the whole chain, fresh-process load, tokenized input.
/// </summary>
public sealed class NeuralTextTrainerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mldx-textmodels-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static NeuralTextBinaryOptions SmallBinary(TextEncoder? encoder = null) => new()
    {
        Network = encoder ?? TextEncoder.Lstm(hiddenSize: 16),
        EmbeddingDimensions = 16,
        MaxLength = 48,
        Epochs = 2,
        MinFrequency = 1,
    };

    private static IReadOnlyList<TextData.Email> FewEmails(int count) => TextData.Split(TextData.Emails, 1 - (double)count / TextData.Emails.Count, seed: 11).Train;

    [Fact]
    public void BinaryClassifier_ChainHoldsTokenizerAndNetwork_AndGivesStandardColumns()
    {
        var mlContext = new MLContext(seed: 1);
        var data = TextData.Load(mlContext, FewEmails(96));
        var model = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(SmallBinary()).Fit(data);

        Assert.Equal(2, model.Count());
        var tokenizer = Assert.IsType<TokenizingTransformer>(model.First());
        Assert.Equal(TokenizerKind.WordVocabulary, tokenizer.Kind);
        Assert.Equal("Text.Tokens", model.LastTransformer.FeatureColumnName);
        var scored = model.Transform(data);
        Assert.Equal(NumberDataViewType.Single, scored.Schema["Score"].Type);
        Assert.Equal(NumberDataViewType.Single, scored.Schema["Probability"].Type);
        Assert.Equal(BooleanDataViewType.Instance, scored.Schema["PredictedLabel"].Type);
        var metrics = mlContext.BinaryClassification.Evaluate(scored);
        Assert.InRange(metrics.Accuracy, 0, 1);

        var engine = mlContext.Model.CreatePredictionEngine<TextData.Email, BinaryPrediction>(model);
        var probabilities = scored.GetColumn<float>("Probability").ToArray();
        var emails = FewEmails(96);
        for (var i = 0; i < 5; i++)
            Assert.Equal(probabilities[i], engine.Predict(emails[i]).Probability, 5);
    }

    [Fact]
    public void GetOutputSchema_PredictsTheTokenAndPredictionColumns_WithoutTraining()
    {
        var mlContext = new MLContext();
        var data = TextData.Load(mlContext, FewEmails(8));
        var shape = (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!.Invoke(null, [data.Schema])!;
        var binary = mlContext.BinaryClassification.Trainers.NeuralTextClassifier().GetOutputSchema(shape).ToDictionary(c => c.Name);
        Assert.Contains("Text.Tokens", binary.Keys);
        Assert.Contains("Probability", binary.Keys);
        Assert.Equal(BooleanDataViewType.Instance, binary["PredictedLabel"].ItemType);
        var options = new NeuralTextBinaryOptions { TextColumnName = "Label" };
        Assert.Throws<ArgumentOutOfRangeException>(() => { mlContext.BinaryClassification.Trainers.NeuralTextClassifier(options).GetOutputSchema(shape); });
    }

    [Fact]
    public void BinaryClassifier_TextScoresTheSameAloneAndBatchedWithLongerTexts()
    {
        var mlContext = new MLContext(seed: 2);
        var emails = FewEmails(96);
        foreach (var encoder in new[] { TextEncoder.Lstm(hiddenSize: 16), TextEncoder.Gru(hiddenSize: 16), TextEncoder.Transformer(layers: 1, heads: 2) })
        {
            var model = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(SmallBinary(encoder)).Fit(TextData.Load(mlContext, emails));
            var shortText = new TextData.Email { Text = "Re: meeting tomorrow\n\nsee you at noon" };
            var alone = mlContext.Model.CreatePredictionEngine<TextData.Email, BinaryPrediction>(model).Predict(shortText).Probability;
            var batch = new[] { emails[0], shortText, emails[1], emails[2] };
            var batched = model.Transform(TextData.Load(mlContext, batch)).GetColumn<float>("Probability").ToArray();
            Assert.Equal(alone, batched[1], 5);
        }
    }

    [Fact]
    public void MulticlassClassifier_OnQuotes_PredictsKeysThatMapBackToTopics()
    {
        var mlContext = new MLContext(seed: 3);
        var data = TextData.Load(mlContext, TextData.Quotes);
        var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TextData.Quote.Topic))
            .Append(mlContext.MulticlassClassification.Trainers.NeuralTextClassifier(new NeuralTextMulticlassOptions
            {
                Network = TextEncoder.Gru(hiddenSize: 16),
                EmbeddingDimensions = 16,
                MinFrequency = 1,
                MaxLength = 32,
                Epochs = 2,
            }))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedTopic", "PredictedLabel"));
        var scored = pipeline.Fit(data).Transform(data);
        var score = (VectorDataViewType)scored.Schema["Score"].Type;
        Assert.Equal(2, score.Size);
        var metrics = mlContext.MulticlassClassification.Evaluate(scored);
        Assert.InRange(metrics.MacroAccuracy, 0, 1);
        Assert.All(scored.GetColumn<string>("PredictedTopic"), t => Assert.Contains(t, new[] { "computers", "science" }));
    }

    [Fact]
    public void Regressor_LearnsANumberFromText_BetterThanTheMean()
    {
        var mlContext = new MLContext(seed: 4);
        var rows = FewEmails(128).Select(e => new TextData.Scored { Text = e.Text, Label = e.Label ? 1 : 0 }).ToList();
        var data = TextData.Load(mlContext, rows);
        var model = mlContext.Regression.Trainers.NeuralTextRegressor(new NeuralTextRegressionOptions
        {
            Network = TextEncoder.Lstm(hiddenSize: 16),
            EmbeddingDimensions = 16,
            MaxLength = 32,
            Epochs = 3,
            LearningRate = 3e-3,
        }).Fit(data);
        var scored = model.Transform(data);
        Assert.Equal(NumberDataViewType.Single, scored.Schema["Score"].Type);
        var metrics = mlContext.Regression.Evaluate(scored);
        var mean = rows.Average(r => r.Label);
        var meanMse = rows.Average(r => (r.Label - mean) * (r.Label - mean));
        Assert.True(metrics.MeanSquaredError < meanMse, $"MSE {metrics.MeanSquaredError:F4} is not below the mean predictor's {meanMse:F4}");
    }

    [Fact]
    public void TokenizedInput_TrainsOnAnIdColumn_WithVocabularySizeAndPaddingId()
    {
        var mlContext = new MLContext(seed: 5);
        var data = TextData.Load(mlContext, FewEmails(64));
        var tokenizer = mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Ids", "Text", maxVocabularySize: 2000, maxLength: 40).Fit(data);
        var ids = tokenizer.Transform(data);
        var options = SmallBinary(TextEncoder.Transformer(layers: 1, heads: 2, pooling: TextPooling.ClassToken));
        options.TextColumnName = "Ids";
        options.VocabularySize = tokenizer.VocabularySize;
        options.PaddingId = tokenizer.PaddingId;
        var model = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(options).Fit(ids);
        Assert.Single(model);
        Assert.Equal(40, model.LastTransformer.FeatureSize);
        Assert.All(model.Transform(ids).GetColumn<float>("Probability"), p => Assert.InRange(p, 0, 1));
    }

    [Fact]
    public void OverLongText_IsTruncatedToMaxLength_KeepingItsFirstTokens()
    {
        var mlContext = new MLContext(seed: 6);
        var model = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(SmallBinary()).Fit(TextData.Load(mlContext, FewEmails(64)));
        var words = string.Join(' ', Enumerable.Repeat("free money now click here", 200));
        var first48 = string.Join(' ', words.Split(' ').Take(48));
        var engine = mlContext.Model.CreatePredictionEngine<TextData.Email, BinaryPrediction>(model);
        Assert.Equal(engine.Predict(new TextData.Email { Text = first48 }).Probability, engine.Predict(new TextData.Email { Text = words }).Probability, 6);
    }

    [Fact]
    public void EmptyTextAtScoringTime_GetsAFiniteScore()
    {
        var mlContext = new MLContext(seed: 7);
        var model = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(SmallBinary()).Fit(TextData.Load(mlContext, FewEmails(64)));
        var engine = mlContext.Model.CreatePredictionEngine<TextData.Email, BinaryPrediction>(model);
        Assert.InRange(engine.Predict(new TextData.Email { Text = "" }).Probability, 0, 1);
        Assert.InRange(engine.Predict(new TextData.Email { Text = null! }).Probability, 0, 1);
    }

    [Fact]
    public void PretrainedWeights_FromAnEarlierTextModel_StartTrainingWhereItEnded()
    {
        var mlContext = new MLContext(seed: 9);
        var data = TextData.Load(mlContext, FewEmails(64));
        var first = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(SmallBinary(TextEncoder.Transformer(layers: 1, heads: 2))).Fit(data);
        var weights = Path.Combine(_directory, "text-model.weights");
        first.LastTransformer.SaveWeights(weights);

        var options = SmallBinary(TextEncoder.Transformer(layers: 1, heads: 2));
        options.PretrainedWeights = ML.DeepExtensions.Pretrained.PretrainedWeights.FromTorchSharp(weights);
        options.Epochs = 1;
        options.LearningRate = 1e-9; // practically no update: the scores are the first model's
        var second = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(options).Fit(data);
        var fresh = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(new NeuralTextBinaryOptions
        {
            Network = options.Network, EmbeddingDimensions = 16, MaxLength = 48, Epochs = 1, MinFrequency = 1, LearningRate = 1e-9,
        }).Fit(data);

        var expected = first.Transform(data).GetColumn<float>("Score").ToArray();
        var loaded = second.Transform(data).GetColumn<float>("Score").ToArray();
        var random = fresh.Transform(data).GetColumn<float>("Score").ToArray();
        for (var i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], loaded[i], 3);
        Assert.True(expected.Zip(random).Any(p => Math.Abs(p.First - p.Second) > 0.01), "a model without the weights scored the same: the test proves nothing");
    }

    [Theory]
    [InlineData(TextEncoderKind.Lstm)]
    [InlineData(TextEncoderKind.Transformer)]
    public void SavedModel_LoadsInAFreshProcess_WithIdenticalScores(TextEncoderKind kind)
    {
        var mlContext = new MLContext(seed: 8);
        var emails = FewEmails(64);
        var data = TextData.Load(mlContext, emails);
        var encoder = kind == TextEncoderKind.Lstm ? TextEncoder.Lstm(hiddenSize: 16) : TextEncoder.Transformer(layers: 1, heads: 2);
        var model = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(SmallBinary(encoder)).Fit(data);
        var texts = emails.Take(20).Select(e => e.Text).Append("").Append("short one").ToArray();
        var expected = model.Transform(TextData.Load(mlContext, texts.Select(t => new TextData.Email { Text = t }))).GetColumn<float>("Score").ToArray();
        var zip = Path.Combine(_directory, $"{kind}.zip");
        mlContext.Model.Save(model, data.Schema, zip);

        var textsFile = Path.Combine(_directory, "texts.json");
        var scoresFile = Path.Combine(_directory, "scores.bin");
        File.WriteAllText(textsFile, JsonSerializer.Serialize(texts));
        var (exit, stdout, stderr) = ProbeRunner.Run("texts", zip, textsFile, scoresFile);
        Assert.True(exit == 0, $"probe failed ({exit}): {stderr}");
        Assert.Contains("TransformerChain", stdout);
        Assert.Equal(expected, ProbeRunner.ReadScores(scoresFile));
    }

    public sealed class BinaryPrediction
    {
        public bool PredictedLabel { get; set; }
        public float Probability { get; set; }
        public float Score { get; set; }
    }
}

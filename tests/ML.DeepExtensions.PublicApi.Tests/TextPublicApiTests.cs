using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Pretrained;
using ML.DeepExtensions.Text.Tokenization;
using Xunit;

namespace ML.DeepExtensions.PublicApi.Tests;

public class TextPublicApiTests
{
    [Fact]
    public void PretrainedMiniLM_EmbeddingsFeedAnMLNetTrainer_SavesLoadsAndPredicts_ThroughThePublicApiOnly()
    {
        var mlContext = new MLContext(seed: 3);
        var emails = File.ReadLines(RepoData.Path("data/spam/spam-assassin-subset.jsonl"))
            .Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<Email>(l)!).Where((_, i) => i % 10 == 0).ToArray();
        var data = mlContext.Data.LoadFromEnumerable(emails);
        var bert = PretrainedBert.MiniLM();
        Assert.Equal((6, 384, 12), (bert.Layers, bert.Dimensions, bert.Heads));
        var model = mlContext.Transforms.Text.EmbedSentences(bert, "Features", "Text", maxLength: 64)
            .AppendCacheCheckpoint(mlContext) // SDCA reads its input many times: embed once
            .Append(mlContext.BinaryClassification.Trainers.SdcaLogisticRegression("Label", "Features"))
            .Fit(data);
        var scores = model.Transform(data).GetColumn<float>("Score").ToArray();
        var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(data));
        Assert.True(metrics.Accuracy > 0.8, $"training accuracy {metrics.Accuracy:P1}");

        using var directory = RepoData.Temporary();
        var path = directory.File("minilm-sdca.zip");
        mlContext.Model.Save(model, data.Schema, path);
        var fresh = new MLContext();
        var loaded = fresh.Model.Load(path, out _);
        Assert.Equal(scores, loaded.Transform(fresh.Data.LoadFromEnumerable(emails)).GetColumn<float>("Score").ToArray());
    }

    [Fact]
    public void NeuralTextClassifier_OnSpam_TrainsSavesLoadsAndPredicts_ThroughThePublicApiOnly()
    {
        var mlContext = new MLContext(seed: 3);
        var emails = File.ReadLines(RepoData.Path("data/spam/spam-assassin-subset.jsonl"))
            .Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<Email>(l)!).Where((_, i) => i % 5 == 0).ToArray();
        var data = mlContext.Data.LoadFromEnumerable(emails);
        var model = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(new NeuralTextBinaryOptions
        {
            Network = TextEncoder.Lstm(hiddenSize: 16),
            EmbeddingDimensions = 16,
            MaxLength = 48,
            MinFrequency = 1,
            Epochs = 2,
        }).Fit(data);

        Assert.IsType<TokenizingTransformer>(model.First());
        Assert.Equal(NetworkTask.BinaryClassification, model.LastTransformer.Kind);
        var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(data));
        Assert.InRange(metrics.Accuracy, 0, 1);

        using var directory = RepoData.Temporary();
        var path = directory.File("spam-classifier.zip");
        mlContext.Model.Save(model, data.Schema, path);
        var fresh = new MLContext();
        var loaded = fresh.Model.Load(path, out _);
        using var before = mlContext.Model.CreatePredictionEngine<Email, SpamPrediction>(model);
        using var after = fresh.Model.CreatePredictionEngine<Email, SpamPrediction>(loaded);
        foreach (var email in emails.Take(10).Append(new Email { Text = "FREE money!!! click here now" }))
        {
            var expected = before.Predict(email);
            var actual = after.Predict(email);
            Assert.Equal(expected.Probability, actual.Probability);
            Assert.Equal(expected.PredictedLabel, actual.PredictedLabel);
            Assert.InRange(actual.Probability, 0, 1);
        }
    }

    [Fact]
    public void LanguageModel_OnFortunes_TrainsGeneratesSavesLoadsAndGeneratesTheSame_ThroughThePublicApiOnly()
    {
        var mlContext = new MLContext(seed: 4);
        var quotations = File.ReadLines(RepoData.Path("data/fortunes/fortunes.tsv")).Skip(1)
            .Select(line => new Prompt { Text = line[(line.IndexOf('\t') + 1)..] }).Take(400).ToArray();
        var data = mlContext.Data.LoadFromEnumerable(quotations);
        var model = mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Tokens", nameof(Prompt.Text), maxVocabularySize: 500, minFrequency: 2, maxLength: 16)
            .Append(mlContext.Transforms.Text.TrainLanguageModel(new LanguageModelOptions
            {
                Dimensions = 32,
                Layers = 1,
                Heads = 2,
                Epochs = 2,
                Generation = new GenerationOptions { Temperature = 0, MaxNewTokens = 6 },
            }))
            .Fit(data);

        var languageModel = model.LastTransformer;
        Assert.Equal(2, languageModel.History.Count);
        var metrics = mlContext.Transforms.Text.EvaluateLanguageModel(languageModel, data);
        Assert.True(double.IsFinite(metrics.Perplexity) && metrics.Perplexity > 1, $"perplexity {metrics.Perplexity}");
        string[] prompts = ["the computer", "never trust a", ""];
        var generated = languageModel.Generate(prompts);
        Assert.Equal(prompts.Length, generated.Count);

        using var directory = RepoData.Temporary();
        var path = directory.File("fortunes-lm.zip");
        mlContext.Model.Save(model, data.Schema, path);
        var fresh = new MLContext();
        var loaded = fresh.Model.Load(path, out _);
        var loadedModel = Assert.IsType<LanguageModelTransformer>(((IEnumerable<ITransformer>)loaded).Last());
        Assert.Equal(generated, loadedModel.Generate(prompts));
        using var engine = fresh.Model.CreatePredictionEngine<Prompt, Continuation>(loaded);
        Assert.Equal(generated, prompts.Select(p => engine.Predict(new Prompt { Text = p }).Text).ToArray());
    }

    [Fact]
    public void Tokenizers_GiveTheirVocabularyIds_AndRoundTripThroughAModelZip_ThroughThePublicApiOnly()
    {
        var mlContext = new MLContext();
        using var directory = RepoData.Temporary();
        var wordPiece = directory.File("vocab.txt");
        File.WriteAllLines(wordPiece, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "token", "##izer", "##s", "!"]);
        string[] texts = ["Hello world!", "Tokenizers tokenizer", "the computer is a tool"];
        var data = mlContext.Data.LoadFromEnumerable(texts.Select(t => new Prompt { Text = t }));
        var pipeline = mlContext.Transforms.Text.TokenizeToIds("Gpt2", "Text", TiktokenVocabulary.Gpt2, maxLength: 8)
            .Append(mlContext.Transforms.Text.TokenizeToIdsWithBpe("Bpe", RepoData.Path("data/gpt2/encoder.json"), RepoData.Path("data/gpt2/vocab.bpe"), "Text", maxLength: 8))
            .Append(mlContext.Transforms.Text.TokenizeToIdsWithWordPiece("WordPiece", wordPiece, "Text", maxLength: 8))
            .Append(mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Words", "Text", maxLength: 8));
        var model = pipeline.Fit(data);
        var ids = Ids(model.Transform(data));

        Assert.Equal([15496, 995, 0, 50257, 50257, 50257, 50257, 50257], ids["Gpt2"][0]); // "Hello", " world", "!", then padding
        Assert.Equal(ids["Gpt2"], ids["Bpe"]);
        Assert.Equal([2, 5, 6, 10, 3, 0, 0, 0], ids["WordPiece"][0]);
        Assert.Equal([2, 7, 8, 9, 7, 8, 3, 0], ids["WordPiece"][1]);
        Assert.All(ids["Words"], row => Assert.All(row, id => Assert.InRange(id, 0, model.LastTransformer.VocabularySize - 1)));

        var path = directory.File("tokenizers.zip");
        mlContext.Model.Save(model, data.Schema, path);
        File.Delete(wordPiece); // the zip carries its own copy of every vocabulary
        var fresh = new MLContext();
        var loaded = Ids(fresh.Model.Load(path, out _).Transform(fresh.Data.LoadFromEnumerable(texts.Select(t => new Prompt { Text = t }))));
        Assert.Equal(ids, loaded);
    }

    private static Dictionary<string, int[][]> Ids(IDataView data)
        => new[] { "Gpt2", "Bpe", "WordPiece", "Words" }.ToDictionary(c => c, c => data.GetColumn<VBuffer<int>>(c).Select(v => v.DenseValues().ToArray()).ToArray());

    public sealed class Email
    {
        [JsonPropertyName("spam")] public bool Label { get; set; }

        [JsonPropertyName("text")] public string Text { get; set; } = "";
    }

    public sealed class SpamPrediction
    {
        public bool PredictedLabel { get; set; }

        public float Probability { get; set; }
    }

    public sealed class Prompt
    {
        public string Text { get; set; } = "";
    }

    public sealed class Continuation
    {
        [ColumnName("Continuation")]
        public string Text { get; set; } = "";
    }
}

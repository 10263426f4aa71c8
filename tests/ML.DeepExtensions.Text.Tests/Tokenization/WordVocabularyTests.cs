using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.ML;
using ML.DeepExtensions.Text.Tokenization;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Tokenization;

/// <summary>The word-level vocabulary learned by Fit: frequencies, min frequency, max size, unknown token, persistence.</summary>
public sealed class WordVocabularyTests
{
    private static readonly string[] Corpus = ["the cat sat on the mat", "The dog sat.", "a cat ran"];

    [Fact]
    public void WordVocabulary_MinFrequency_KeepsFrequentWordsMostFrequentFirst()
    {
        var mlContext = new MLContext();
        var data = TestData.Texts(mlContext, Corpus);
        var transformer = mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Ids", "Text", minFrequency: 2, maxLength: 6).Fit(data);

        // the ×3, then cat and sat ×2 (tie: ordinal order); everything else is seen once.
        Assert.Equal(["<pad>", "<unk>", "the", "cat", "sat"], transformer.Words!);
        Assert.Equal(5, transformer.VocabularySize);
        Assert.Equal(0, transformer.PaddingId);
        Assert.Equal(1, transformer.UnknownTokenId);

        var ids = TestData.Ids(transformer.Transform(TestData.Texts(mlContext, ["The cat ran."])), "Ids")[0];
        Assert.Equal([2, 3, 1, 1, 0, 0], ids);
    }

    [Fact]
    public void WordVocabulary_MaxSize_CountsPaddingAndUnknown()
    {
        var mlContext = new MLContext();
        var data = TestData.Texts(mlContext, Corpus);
        var transformer = mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary(new WordVocabularyOptions
        {
            OutputColumnName = "Ids", InputColumnName = "Text", MaxVocabularySize = 4, UnknownToken = "[?]", MaxLength = 4,
        }).Fit(data);
        Assert.Equal(["<pad>", "[?]", "the", "cat"], transformer.Words!);
        Assert.Equal(1, transformer.SpecialTokens["[?]"]);
        Assert.Equal([2, 1, 3, 0], TestData.Ids(transformer.Transform(TestData.Texts(mlContext, ["the sat cat"])), "Ids")[0]);
    }

    [Fact]
    public void WordVocabulary_OnFortunes_OrdersWordsByCountedFrequency()
    {
        var mlContext = new MLContext();
        var data = TestData.Texts(mlContext, TestData.Sentences);
        var transformer = mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Ids", "Text", maxVocabularySize: 50, minFrequency: 3).Fit(data);

        // Independent count with the same splitting rule (word runs or punctuation runs, lower-cased).
        var counts = TestData.Sentences.SelectMany(s => Regex.Matches(s.ToLowerInvariant(), @"\w+|[^\w\s]+").Select(m => m.Value))
            .GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count());
        var expected = counts.Where(p => p.Value >= 3).OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(48).Select(p => p.Key);
        Assert.Equal(["<pad>", "<unk>", .. expected], transformer.Words!);

        var rows = TestData.Ids(transformer.Transform(data), "Ids");
        Assert.All(rows.SelectMany(r => r), id => Assert.InRange(id, 0, 49));
        Assert.Contains(rows.SelectMany(r => r), id => id == 1);
    }

    [Fact]
    public void WordVocabulary_SaveLoad_GivesIdenticalIdsAndVocabulary()
    {
        var mlContext = new MLContext();
        var data = TestData.Texts(mlContext, TestData.Sentences);
        var transformer = mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Ids", "Text", maxVocabularySize: 200, maxLength: 64).Fit(data);
        var path = Path.Combine(Path.GetTempPath(), $"mldx-words-{Guid.NewGuid():N}.zip");
        try
        {
            mlContext.Model.Save(transformer, data.Schema, path);
            var fresh = new MLContext();
            var loaded = Assert.IsType<TokenizingTransformer>(fresh.Model.Load(path, out _));
            Assert.Equal(transformer.Words, loaded.Words);
            Assert.Equal(TestData.Ids(transformer.Transform(data), "Ids"), TestData.Ids(loaded.Transform(TestData.Texts(fresh, TestData.Sentences)), "Ids"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(2, 1, "MaxVocabularySize")]
    [InlineData(100, 0, "MinFrequency")]
    public void WordVocabulary_BadSizes_ThrowNamingTheOption(int maxVocabularySize, int minFrequency, string parameter)
    {
        var mlContext = new MLContext();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Ids", "Text", maxVocabularySize, minFrequency));
        Assert.Equal(parameter, ex.ParamName);
        Assert.Contains("Received", ex.Message);
    }
}

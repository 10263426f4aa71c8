using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Text.Tokenization;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Tokenization;

/// <summary>BERT WordPiece from a small vocab.txt written here: ids are line numbers, so expected ids are read off the list.</summary>
public sealed class WordPieceTests : IDisposable
{
    private static readonly string[] Vocabulary =
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "quick", "brown", "fox", "##es", "jump", "##s", "over", "lazy", "dog", ".", ","];

    private readonly string _directory = Directory.CreateTempSubdirectory("mldx-wordpiece-").FullName;

    public WordPieceTests() => File.WriteAllLines(VocabularyPath, Vocabulary);

    private string VocabularyPath => Path.Combine(_directory, "vocab.txt");

    private static int Id(string token) => Array.IndexOf(Vocabulary, token);

    [Fact]
    public void TokenizeToIdsWithWordPiece_Sentence_GivesClsSubwordsSepThenPadding()
    {
        var mlContext = new MLContext();
        var texts = new[] { "The quick brown foxes jumps over the lazy dog.", "Unknown words!" };
        var data = TestData.Texts(mlContext, texts);
        var transformer = mlContext.Transforms.Text.TokenizeToIdsWithWordPiece("Ids", VocabularyPath, "Text", maxLength: 16).Fit(data);
        var rows = TestData.Ids(transformer.Transform(data), "Ids");

        int[] first = [.. new[] { "[CLS]", "the", "quick", "brown", "fox", "##es", "jump", "##s", "over", "the", "lazy", "dog", ".", "[SEP]" }.Select(Id), Id("[PAD]"), Id("[PAD]")];
        Assert.Equal(first, rows[0]);
        int[] second = [Id("[CLS]"), Id("[UNK]"), Id("[UNK]"), Id("[UNK]"), Id("[SEP]"), .. Enumerable.Repeat(Id("[PAD]"), 11)];
        Assert.Equal(second, rows[1]);

        Assert.Equal(Vocabulary.Length, transformer.VocabularySize);
        Assert.Equal(Id("[PAD]"), transformer.PaddingId);
        Assert.Equal(Id("[CLS]"), transformer.ClassificationTokenId);
        Assert.Equal(Id("[SEP]"), transformer.SeparatorTokenId);
        Assert.Equal(Id("[UNK]"), transformer.UnknownTokenId);
        Assert.Equal(Id("[MASK]"), transformer.SpecialTokens["[MASK]"]);
    }

    [Fact]
    public void TokenizeToIdsWithWordPiece_OverLongText_KeepsClsAndSepAndTruncatesContentPerPolicy()
    {
        var mlContext = new MLContext();
        var data = TestData.Texts(mlContext, ["the quick brown fox jumps over the lazy dog"]);
        var content = new[] { "the", "quick", "brown", "fox", "jump", "##s", "over", "the", "lazy", "dog" }.Select(Id).ToArray();

        var first = TestData.Ids(mlContext.Transforms.Text.TokenizeToIdsWithWordPiece("Ids", VocabularyPath, "Text", maxLength: 6).Fit(data).Transform(data), "Ids")[0];
        Assert.Equal([Id("[CLS]"), .. content.Take(4), Id("[SEP]")], first);

        var last = TestData.Ids(mlContext.Transforms.Text.TokenizeToIdsWithWordPiece(new WordPieceTokenizationOptions
        {
            OutputColumnName = "Ids", InputColumnName = "Text", VocabularyPath = VocabularyPath, MaxLength = 6, Truncation = TruncationSide.KeepLast,
        }).Fit(data).Transform(data), "Ids")[0];
        Assert.Equal([Id("[CLS]"), .. content.Skip(content.Length - 4), Id("[SEP]")], last);
    }

    [Fact]
    public void TokenizeToIdsWithWordPiece_CasedWithoutSpecialTokens_KeepsCaseAndAddsNothing()
    {
        var mlContext = new MLContext();
        var data = TestData.Texts(mlContext, ["The fox"]);
        var ids = TestData.Ids(mlContext.Transforms.Text.TokenizeToIdsWithWordPiece(new WordPieceTokenizationOptions
        {
            OutputColumnName = "Ids", InputColumnName = "Text", VocabularyPath = VocabularyPath, MaxLength = 3, LowerCase = false, AddSpecialTokens = false,
        }).Fit(data).Transform(data), "Ids")[0];
        Assert.Equal([Id("[UNK]"), Id("fox"), Id("[PAD]")], ids);
    }

    [Fact]
    public void TokenizeToIdsWithWordPiece_MaxLengthWithoutRoomForText_ThrowsNamingMaxLength()
    {
        var mlContext = new MLContext();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Transforms.Text.TokenizeToIdsWithWordPiece("Ids", VocabularyPath, "Text", maxLength: 2));
        Assert.Equal("MaxLength", ex.ParamName);
        Assert.Contains("special token", ex.Message);
    }

    [Fact]
    public void VocabularyWithoutSpecialTokens_ThrowsInvalidDataNamingThePath()
    {
        var file = Path.Combine(_directory, "plain.txt");
        File.WriteAllLines(file, ["the", "quick", "fox"]);
        var mlContext = new MLContext();
        var ex = Assert.Throws<InvalidDataException>(() => mlContext.Transforms.Text.TokenizeToIdsWithWordPiece("Ids", file, "Text"));
        Assert.Contains(file, ex.Message);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

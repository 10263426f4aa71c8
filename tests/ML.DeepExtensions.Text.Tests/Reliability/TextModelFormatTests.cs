using System;
using System.Linq;
using System.Text.Json.Nodes;
using Microsoft.ML;
using ML.DeepExtensions.TestSupport;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Tokenization;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Reliability;

/// <summary>
/// Issue 10 for the tokenizer and language-model formats: their streams are hashed and verified on load (tokenizer format
/// v2, language model v3), and their header fields are validated (edits re-hashed as an attacker would).
/// </summary>
[Trait("Category", "Reliability")]
public sealed class TextModelFormatTests(TextModels models) : IClassFixture<TextModels>
{
    private const string TokenizerStream = "TransformerChain/Model.key";
    private const string LanguageModelStream = "TransformerChain/Model.key";
    private const string NestedTokenizerStream = "TransformerChain/Tokenizer/Model.key";

    [Fact]
    public void IntactZips_LoadAndGiveIdenticalOutputs()
    {
        Assert.Equal(models.TokenizerOutputs(models.Tokenizer), models.TokenizerOutputs(new MLContext().Model.Load(models.TokenizerZip, out _)));
        using var loaded = (LanguageModelTransformer)new MLContext().Model.Load(models.LanguageModelZip, out _);
        Assert.Equal(TextModels.LanguageModelOutputs(models.LanguageModel), TextModels.LanguageModelOutputs(loaded));
    }

    [Fact]
    public void FlippedByteInTheVocabularyFile_FailsToLoadNamingTheEntry()
    {
        // Without the hash, one changed byte in vocab.txt renames a token: the ids change silently.
        var zip = models.Copy(models.TokenizerZip, "vocabulary-flipped");
        var vocabulary = ModelZipSurgery.Read(zip, "Vocabulary.bin");
        vocabulary[^3] ^= 0x20;
        ModelZipSurgery.Replace(zip, "TransformerChain/Vocabulary.bin", vocabulary);

        Damage.AssertLoadFails(zip, "The model is damaged", "TransformerChain/Vocabulary.bin", "vocabulary file", "SHA-256");
    }

    [Fact]
    public void VocabularyWhoseLengthPrefixLies_FailsToLoad()
    {
        var zip = models.Copy(models.TokenizerZip, "vocabulary-prefix");
        var vocabulary = ModelZipSurgery.Read(zip, "Vocabulary.bin");
        BitConverter.TryWriteBytes(vocabulary.AsSpan(0, 4), vocabulary.Length); // 4 more than it holds
        ModelZipSurgery.ReplaceStreamAndRehash(zip, "TransformerChain", "Vocabulary.bin", vocabulary);

        Damage.AssertLoadFails(zip, "The model is damaged", "TransformerChain/Vocabulary.bin", "says it holds");
    }

    [Fact]
    public void TokenizerHeaderEditedWithoutItsHash_FailsToLoad()
    {
        var zip = models.Copy(models.TokenizerZip, "tokenizer-header");
        ModelZipSurgery.EditHeader(zip, TokenizerStream, json => json["settings"]!["maxLength"] = 23, rehash: false);

        Damage.AssertLoadFails(zip, "The model is damaged", TokenizerStream, "SHA-256");
    }

    public static TheoryData<string, string> TokenizerEdits => new()
    {
        { "settings.maxLength=0", "maxLength must be positive" },
        { "settings.maxLength=1", "leaves no room" },
        { "settings.truncation=7", "truncation 7" },
        { "settings.inputColumnName=\"\"", "empty input or output column name" },
        { "tokenizer.kind=\"BytePairEncoding\"", "merges file" },
        { "tokenizer.kind=\"WordVocabulary\"", "has a vocabulary file and no merges file, but such a tokenizer has no vocabulary file" },
        { "tokenizer.kind=\"WordVocabulary\";hasVocabularyFile=false", "without the learned word vocabulary" },
        { "tokenizer.kind=9", "tokenizer kind 9" },
        { "hasVocabularyFile=false", "vocabulary file" },
    };

    [Theory]
    [MemberData(nameof(TokenizerEdits))]
    public void TokenizerHeaderEditedAndRehashed_FailsToLoadWithAClearMessage(string edit, string expected)
    {
        var zip = models.Copy(models.TokenizerZip, "tokenizer-edit");
        ModelZipSurgery.EditHeader(zip, TokenizerStream, json => Apply(json, edit));

        Damage.AssertLoadFails(zip, "The model is damaged", TokenizerStream, expected);
    }

    [Fact]
    public void FlippedBytesInTheLanguageModelWeights_FailToLoadNamingTheEntry()
    {
        var zip = models.Copy(models.LanguageModelZip, "lm-flipped");
        var weights = ModelZipSurgery.Read(zip, "Weights.bin");
        var floats = ModelZipSurgery.SingleTensors(weights).Values.First(t => t.Bytes >= 64);
        weights[floats.Offset + 40] ^= 0x01;
        ModelZipSurgery.Replace(zip, "TransformerChain/Weights.bin", weights);

        Damage.AssertLoadFails(zip, "The model is damaged", "TransformerChain/Weights.bin", "language-model weights", "SHA-256");
    }

    [Fact]
    public void NestedTokenizerEditedWithoutItsHash_FailsToLoad()
    {
        var zip = models.Copy(models.LanguageModelZip, "lm-nested-tokenizer");
        ModelZipSurgery.EditHeader(zip, NestedTokenizerStream, json => json["tokenizer"]!["words"]![5] = "zebra", rehash: false);

        Damage.AssertLoadFails(zip, "The model is damaged", NestedTokenizerStream, "SHA-256");
    }

    public static TheoryData<string, string> LanguageModelEdits => new()
    {
        { "inputShape=[11]", "is not its tokenizer's length (12)" },
        { "tokenColumn=\"\"", "token column name is empty" },
        { "generation.temperature=-1", "generation settings are not valid" },
        { "generation=null", "without generation settings" },
        { "history=null", "without a training history" },
        { "network=\"{}\"", "description is not valid" },
        { "network=\"{\\\"layers\\\":[]}\"", "outputs (12) per text, not one logit per token" },
    };

    [Theory]
    [MemberData(nameof(LanguageModelEdits))]
    public void LanguageModelHeaderEditedAndRehashed_FailsToLoadWithAClearMessage(string edit, string expected)
    {
        var zip = models.Copy(models.LanguageModelZip, "lm-edit");
        ModelZipSurgery.EditHeader(zip, LanguageModelStream, json => Apply(json, edit));

        Damage.AssertLoadFails(zip, "The model is damaged", LanguageModelStream, expected);
    }

    [Fact]
    public void LanguageModelHeaderDescribingAHugeTransformer_FailsBeforeBuildingIt()
    {
        var zip = models.Copy(models.LanguageModelZip, "lm-huge");
        ModelZipSurgery.EditHeader(zip, LanguageModelStream, json =>
        {
            var network = JsonNode.Parse((string)json["network"]!)!;
            network["layers"]![0]!["layers"] = 1_000_000; // a million Transformer blocks
            json["network"] = network.ToJsonString();
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();

        Damage.AssertLoadFails(zip, "The model is damaged", LanguageModelStream, "needs at least");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"rejecting it took {clock.Elapsed}");
    }

    /// <summary>Applies "path=json" edits separated by ';'.</summary>
    private static void Apply(JsonObject header, string edits)
    {
        foreach (var edit in edits.Split(';'))
            ApplyOne(header, edit);
    }

    private static void ApplyOne(JsonObject header, string edit)
    {
        var split = edit.IndexOf('=', StringComparison.Ordinal);
        var parts = edit[..split].Split('.');
        JsonObject target = header;
        for (var i = 0; i < parts.Length - 1; i++)
            target = target[parts[i]]!.AsObject();
        target[parts[^1]] = JsonNode.Parse(edit[(split + 1)..]);
    }
}

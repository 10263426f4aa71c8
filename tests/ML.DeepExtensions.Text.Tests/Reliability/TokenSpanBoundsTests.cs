using System;
using System.Collections.Generic;
using System.Reflection;
using Microsoft.ML.Tokenizers;
using ML.DeepExtensions.Text.Tokenization;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Reliability;

/// <summary>
/// The proof that lets the bounded encoder skip most of an over-long pre-token: its length bounds must hold for every
/// vocabulary entry, and its interval count must be a lower bound of the tokens.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class TokenSpanBoundsTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("cl100k_base")]
    public void TiktokenBounds_FromThePublicDecoder_CoverEveryTokensBytes(string vocabulary)
    {
        var tokenizer = vocabulary == "gpt2" ? TiktokenTokenizer.CreateForModel("gpt2") : TiktokenTokenizer.CreateForEncoding(vocabulary);
        var largestId = 0;
        foreach (var id in tokenizer.SpecialTokens!.Values)
            largestId = Math.Max(largestId, id);
        var bounds = TokenSpanBounds.ForTiktoken(tokenizer, largestId);

        // The tokens' bytes are internal to Microsoft.ML.Tokenizers: read them here only, to check the public-API bounds.
        var property = typeof(TiktokenTokenizer).GetProperty("Encoder", BindingFlags.NonPublic | BindingFlags.Instance);
        Assert.True(property is not null, "Microsoft.ML.Tokenizers no longer has TiktokenTokenizer.Encoder: check TokenSpanBounds.ForTiktoken against the new version.");
        var encoder = (IReadOnlyDictionary<ReadOnlyMemory<byte>, int>)property!.GetValue(tokenizer)!;
        Assert.True(encoder.Count > 50_000);
        foreach (var token in encoder.Keys)
        {
            Assert.True(bounds.Bound(token.Span[0], fromEnd: false) >= token.Length, $"token {encoder[token]} starts with byte {token.Span[0]:X2}");
            Assert.True(bounds.Bound(token.Span[^1], fromEnd: true) >= token.Length, $"token {encoder[token]} ends with byte {token.Span[^1]:X2}");
        }
    }

    [Fact]
    public void ByteLevelBounds_OfGpt2Files_EqualTheLongestTokenByItsFirstAndLastByte()
    {
        var tokens = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(System.IO.File.ReadAllBytes(TestData.Gpt2Encoder))!;
        var bounds = TokenSpanBounds.ForByteLevel(tokens);
        // "aaaa" is GPT-2's token for a run of a; ' =====…' (66 bytes) is the longest starting with a space; 128 bytes is the longest overall.
        Assert.Equal(13, bounds.Bound('a', fromEnd: false));
        Assert.Equal(66, bounds.Bound(' ', fromEnd: false));
        Assert.Equal(1, bounds.Bound(' ', fromEnd: true));
        var longest = 0;
        for (var b = 0; b < 256; b++)
            longest = Math.Max(longest, bounds.Bound(b, fromEnd: false));
        Assert.Equal(128, longest);
    }

    [Fact]
    public void OverflowLength_CountsTheFewestTokensThatCanCoverTheScannedChars()
    {
        // Classic BPE: a token starting with 'a' covers ≤ 3 chars ("aab"), one ending with 'a' covers 1, one ending with 'b' ≤ 3;
        // 'x' is not in the vocabulary and there is no unknown token, so it is dropped and costs nothing.
        var bounds = TokenSpanBounds.ForClassicBpe(new Dictionary<string, int> { ["a"] = 0, ["b"] = 1, ["ab"] = 2, ["aab"] = 3 }, unknownToken: null);

        Assert.Equal(4, bounds.OverflowLength("aaaa", maxTokens: 1, fromEnd: false));   // [aaa][a…: a second token starts at char 3
        Assert.Equal(-1, bounds.OverflowLength("aaaa", maxTokens: 2, fromEnd: false));
        Assert.Equal(8, bounds.OverflowLength("xxxxaaaa", maxTokens: 1, fromEnd: false));
        Assert.Equal(-1, bounds.OverflowLength(new string('x', 1000), maxTokens: 1, fromEnd: false));
        Assert.Equal(4, bounds.OverflowLength("aaab", maxTokens: 1, fromEnd: true));    // …b] covers 3 chars, then a second token ends at 'a'
        Assert.Equal(-1, bounds.OverflowLength("aaab", maxTokens: 2, fromEnd: false));  // [aaa][b]

        // With a one-char unknown token the covered text of a token can be twice its string: bounds double.
        var withUnknown = TokenSpanBounds.ForClassicBpe(new Dictionary<string, int> { ["a"] = 0, ["?"] = 1 }, unknownToken: "?");
        Assert.Equal(2, withUnknown.Bound('a', fromEnd: false));
        Assert.Equal(3, withUnknown.OverflowLength("xxxxx", maxTokens: 1, fromEnd: false));
    }
}

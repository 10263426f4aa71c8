using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using ML.DeepExtensions.Text.Tests.Classification;
using ML.DeepExtensions.Text.Tests.Generation;
using ML.DeepExtensions.Text.Tokenization;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Text.Tests.Reliability;

/// <summary>
/// The transform tokenizes only what a row keeps; these tests compare its rows with the whole text's encoding
/// (<see cref="TokenizingTransformer.EncodeToIds"/>) truncated afterwards, on real and random texts, for small and large
/// MaxLength and both truncation sides.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class BoundedTokenizationTests : IClassFixture<TokenizerFactory>
{
    private static readonly int[] MaxLengths = [3, 16, 130, 1024];

    private readonly TokenizerFactory _factory;
    private readonly ITestOutputHelper _output;

    public BoundedTokenizationTests(TokenizerFactory factory, ITestOutputHelper output)
    {
        _factory = factory;
        _output = output;
    }

    public static TheoryData<string> Kinds => TokenizerFactory.KindData;

    [Theory]
    [MemberData(nameof(Kinds))]
    public void BoundedRows_EqualTheTruncatedWholeEncoding_OnRealTexts(string kind)
    {
        var texts = TextData.Emails.Where((_, i) => i % 3 == 0).Select(e => e.Text)
            .Concat(Fortunes.Training.Where((_, i) => i % 2 == 0))
            .Concat(TestData.Sentences)
            .ToList();
        AssertBoundedEqualsWhole(kind, texts);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void BoundedRows_EqualTheTruncatedWholeEncoding_OnRandomTexts(string kind)
        => AssertBoundedEqualsWhole(kind, RandomTexts(seed: 12345, count: 400));

    [Theory]
    [MemberData(nameof(Kinds))]
    public void BoundedRows_EqualTheTruncatedWholeEncoding_OnLongRunsOfOneCharacter(string kind)
    {
        // Pre-tokens longer than the bounded encoder's threshold (256 chars): some fit a row, some are cut to a window.
        string[] runs = ["a", " ", "-", "!", "1", "\n", "日", "🙂", "Ã", "ÃÂ", "ab", "é"];
        int[] lengths = [257, 300, 517, 1000, 2100, 4000];
        var texts = runs.SelectMany(run => lengths.Select(n => Repeat(run, n)).Concat(lengths.Take(3).Select(n => "x " + Repeat(run, n) + " y z"))).ToList();
        AssertBoundedEqualsWhole(kind, texts);
    }

    [Fact]
    public void LongPreTokenThatJustFits_IsEncodedWhole()
    {
        // cl100k has a token of 128 spaces, the longest of its vocabulary, so 125 × 128 spaces are at least 125 tokens:
        // the proof that a pre-token cannot fit must not fire while they fit a row of 128.
        var transformer = _factory.Create("Cl100k", 128, TruncationSide.KeepFirst);
        var text = "x" + new string(' ', 125 * 128) + "y";
        var whole = transformer.EncodeToIds(text);
        Assert.InRange(whole.Length, 126, 128);
        Assert.Equal(Expected(transformer, whole, 128, TruncationSide.KeepFirst), _factory.Transform(transformer, text));
    }

    /// <summary>
    /// Every row equals the truncated whole encoding, except where the documented rule allows otherwise: a kept-last row of
    /// a text that does not fit and has a pre-token longer than <see cref="TruncatingEncoder.LongPieceLength"/> chars
    /// (BPE kinds only) may come from a window at the pre-token's end; such a row must still be full and, for the
    /// byte-level kinds, decode to the end of the text.
    /// </summary>
    private void AssertBoundedEqualsWhole(string kind, IReadOnlyList<string> texts)
    {
        var wholes = (List<int[]>?)null;
        var windowed = 0;
        var truncated = 0;
        foreach (var maxLength in MaxLengths)
        {
            foreach (var side in new[] { TruncationSide.KeepFirst, TruncationSide.KeepLast })
            {
                var transformer = _factory.Create(kind, maxLength, side);
                wholes ??= texts.Select(transformer.EncodeToIds).ToList();
                var rows = _factory.Transform(transformer, texts);
                for (var i = 0; i < texts.Count; i++)
                {
                    var expected = Expected(transformer, wholes[i], maxLength, side);
                    var fits = wholes[i].Length <= maxLength;
                    truncated += fits ? 0 : 1;
                    if (expected.SequenceEqual(rows[i]))
                        continue;
                    var describe = $"{kind}, MaxLength={maxLength}, {side}, text #{i} ({texts[i].Length} chars, starts '{Shorten(texts[i])}'):\n" +
                        $"expected [{string.Join(",", expected)}]\nreceived [{string.Join(",", rows[i])}]";
                    var allowed = side == TruncationSide.KeepLast && !fits && kind is not ("WordPiece" or "WordVocabulary") && HasLongRun(texts[i]);
                    Assert.True(allowed, describe);
                    Assert.DoesNotContain(transformer.PaddingId, rows[i]);
                    if (kind is "Gpt2" or "Cl100k" or "BpeFiles")
                        Assert.True(WithoutInvalidText(texts[i]).EndsWith(WithoutInvalidText(transformer.Decode(rows[i])), StringComparison.Ordinal), describe);
                    windowed++;
                }
            }
        }
        _output.WriteLine($"{kind}: {texts.Count} texts × {MaxLengths.Length} lengths × 2 sides; {truncated} rows truncated, {windowed} kept-last rows differ from the whole encoding (windowed pre-token).");
    }

    /// <summary>The text without U+FFFD and lone surrogates (which decode to U+FFFD, as does a token cut inside a character).</summary>
    private static string WithoutInvalidText(string text)
        => string.Concat(text.Where((c, i) => c != '\uFFFD' && !(char.IsHighSurrogate(c) ? i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1])
            : char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(text[i - 1])))));

    /// <summary>A pre-token longer than the threshold lies within a run of that many white-space or non-white-space chars.</summary>
    private static bool HasLongRun(string text)
    {
        var run = 0;
        for (var i = 0; i < text.Length; i++)
        {
            run = i > 0 && char.IsWhiteSpace(text[i]) == char.IsWhiteSpace(text[i - 1]) ? run + 1 : 1;
            if (run > TruncatingEncoder.LongPieceLength)
                return true;
        }
        return false;
    }

    /// <summary>Today's length policy applied to the whole encoding: special tokens kept, content truncated, then padding.</summary>
    private static int[] Expected(TokenizingTransformer transformer, int[] whole, int maxLength, TruncationSide side)
    {
        var row = Enumerable.Repeat(transformer.PaddingId, maxLength).ToArray();
        if (whole.Length == 0)
            return row;
        var special = transformer.Kind == TokenizerKind.WordPiece ? 1 : 0;
        var content = whole[special..^special];
        var take = Math.Min(maxLength - 2 * special, content.Length);
        var kept = side == TruncationSide.KeepLast ? content[^take..] : content[..take];
        int[] real = [.. whole[..special], .. kept, .. whole[^special..]];
        real.CopyTo(row, 0);
        return row;
    }

    /// <summary>Texts of random fragments: words, white space, punctuation, digits, contractions, non-ASCII, emoji, lone surrogates, special-token look-alikes and long runs.</summary>
    internal static List<string> RandomTexts(int seed, int count)
    {
        string[] fragments =
        [
            "a", "the", "The", "quick", "fox", "es", "ing", " ", "  ", "\n", "\r\n", "\t", " \n ", "'s", "'ll", "'VE", "!", "?!", "...", "--", ",",
            "1", "23", "4567", "3.14", "é", "ü", "naïve", "日本", "語", "🙂", "👍🏽", "e\u0301", "<|endoftext|>", "<|endof", "Ã", "ÃÂ",
            "\uD800", "\uDC00", "[CLS]", "[UNK]", "##", "AAAA", "-----", "http://example.com/a?b=c", "\u00A0", "\u3000", "ﬁ", "İ",
        ];
        var random = new Random(seed);
        var texts = new List<string>(count);
        for (var t = 0; t < count; t++)
        {
            var text = new StringBuilder();
            var parts = random.Next(0, 60);
            for (var p = 0; p < parts; p++)
            {
                var fragment = fragments[random.Next(fragments.Length)];
                text.Append(random.Next(25) == 0 ? Repeat(fragment, random.Next(20, 700)) : fragment);
            }
            texts.Add(text.ToString());
        }
        return texts;
    }

    private static string Repeat(string run, int count) => new StringBuilder(run.Length * count).Insert(0, run, count).ToString();

    private static string Shorten(string text)
        => string.Concat(text.Take(40).Select(c => c < ' ' || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString()));
}

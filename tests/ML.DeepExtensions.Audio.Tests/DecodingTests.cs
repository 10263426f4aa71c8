using System;
using System.Linq;
using Xunit;

namespace ML.DeepExtensions.Audio.Tests;

public sealed class DecodingTests
{
    private static float[] LogProbabilities(double[][] probabilities)
        => probabilities.SelectMany(row => row.Select(p => (float)Math.Log(p))).ToArray();

    [Fact]
    public void Greedy_MergesRepeatsAndDropsBlanks()
    {
        // Classes: 0 blank, 1 'a', 2 'b'. Best path a a _ a b b _ → "a a b" collapses to [1, 1, 2].
        var best = new[] { 1, 1, 0, 1, 2, 2, 0 };
        var scores = LogProbabilities(best.Select(c => Enumerable.Range(0, 3).Select(k => k == c ? 0.8 : 0.1).ToArray()).ToArray());
        Assert.Equal(new[] { 1, 1, 2 }, CtcDecoding.Greedy(scores, best.Length, 3));
    }

    [Fact]
    public void Greedy_StopsAtTheGivenFrames()
    {
        var best = new[] { 1, 2, 2 };
        var scores = LogProbabilities(best.Select(c => Enumerable.Range(0, 3).Select(k => k == c ? 0.8 : 0.1).ToArray()).ToArray());
        Assert.Equal(new[] { 1 }, CtcDecoding.Greedy(scores, 1, 3));
    }

    [Fact]
    public void PrefixBeamSearch_SumsPathsThatGreedyMisses()
    {
        // Two frames, P(blank) = 0.6, P(a) = 0.4 each. Greedy: blank blank → "" (0.36).
        // "a" = aa + a_ + _a = 0.16 + 0.24 + 0.24 = 0.64, so the beam search returns "a".
        var scores = LogProbabilities([[0.6, 0.4], [0.6, 0.4]]);
        Assert.Empty(CtcDecoding.Greedy(scores, 2, 2));
        Assert.Equal(new[] { 1 }, CtcDecoding.PrefixBeamSearch(scores, 2, 2, beamWidth: 4));
    }

    [Fact]
    public void PrefixBeamSearch_RepeatNeedsBlankBetween()
    {
        // a _ a with confident frames decodes to "aa"; a a a to "a".
        var confident = (int c) => Enumerable.Range(0, 2).Select(k => k == c ? 0.98 : 0.02).ToArray();
        Assert.Equal(new[] { 1, 1 }, CtcDecoding.PrefixBeamSearch(LogProbabilities([confident(1), confident(0), confident(1)]), 3, 2, 8));
        Assert.Equal(new[] { 1 }, CtcDecoding.PrefixBeamSearch(LogProbabilities([confident(1), confident(1), confident(1)]), 3, 2, 8));
    }

    [Fact]
    public void PrefixBeamSearch_WidthOne_OnConfidentFrames_EqualsGreedy()
    {
        var random = new Random(3);
        var frames = 30;
        var rows = Enumerable.Range(0, frames).Select(_ =>
        {
            var winner = random.Next(4);
            return Enumerable.Range(0, 4).Select(k => k == winner ? 0.97 : 0.01).ToArray();
        }).ToArray();
        var scores = LogProbabilities(rows);
        Assert.Equal(CtcDecoding.Greedy(scores, frames, 4), CtcDecoding.PrefixBeamSearch(scores, frames, 4, 1));
    }

    [Fact]
    public void Decoders_TooFewScores_ThrowNamingFrames()
    {
        var error = Assert.Throws<ArgumentException>(() => CtcDecoding.Greedy(new float[5], 3, 2));
        Assert.Contains("frames", error.Message);
    }
}

public sealed class ErrorRateTests
{
    [Fact]
    public void Words_CountsSubstitutionsDeletionsInsertions()
    {
        // reference: one two three four; hypothesis: one too three four five → 1 substitution, 1 insertion.
        var counts = ErrorRates.Words("one two three four", "one too three four five");
        Assert.Equal(new EditCounts(1, 0, 1, 4), counts);
        Assert.Equal(0.5, ErrorRates.WordErrorRate("one two three four", "one too three four five"));
    }

    [Fact]
    public void Words_Deletion()
    {
        Assert.Equal(new EditCounts(0, 2, 0, 3), ErrorRates.Words("go left now", "left"));
    }

    [Fact]
    public void Characters_KittenSitting()
    {
        // kitten → sitting: 2 substitutions (k→s, e→i) and 1 insertion (g).
        Assert.Equal(new EditCounts(2, 0, 1, 6), ErrorRates.Characters("kitten", "sitting"));
        Assert.Equal(0.5, ErrorRates.CharacterErrorRate("kitten", "sitting"));
    }

    [Fact]
    public void Rates_NormaliseWhiteSpace_AndHandleEmptyReference()
    {
        Assert.Equal(0, ErrorRates.WordErrorRate("  yes   no ", "yes no"));
        Assert.Equal(0, ErrorRates.CharacterErrorRate("yes  no", " yes no "));
        Assert.Equal(1, ErrorRates.WordErrorRate("", "stop"));
        Assert.Equal(0, ErrorRates.WordErrorRate("", ""));
    }

    [Fact]
    public void Metrics_AreCorpusLevel()
    {
        var metrics = SpeechRecognitionMetrics.From([("one two", "one two"), ("three four five six", "three for five")]);
        // 6 reference words, 1 substitution + 1 deletion.
        Assert.Equal(2.0 / 6, metrics.WordErrorRate, 12);
        Assert.Equal(1 - 2.0 / 6, metrics.WordAccuracy, 12);
        Assert.Equal(0.5, metrics.SentenceAccuracy);
        Assert.Equal(2, metrics.Rows);
    }
}

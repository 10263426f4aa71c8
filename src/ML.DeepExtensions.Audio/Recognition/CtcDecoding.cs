using System;
using System.Collections.Generic;
using System.Linq;

namespace ML.DeepExtensions.Audio;

/// <summary>How per-frame character scores become text.</summary>
public enum CtcDecoder
{
    /// <summary>Best class per frame, repeats merged, blanks removed.</summary>
    Greedy,
    /// <summary>CTC prefix beam search (Hannun et al., 2014) without a language model, keeping <see cref="SpeechRecognizerOptions.BeamWidth"/> prefixes,
    /// optionally biased by a word list (<see cref="SpeechRecognizerOptions.WordList"/>).</summary>
    PrefixBeamSearch,
}

/// <summary>
/// CTC decoding of per-frame log-probabilities (frames × classes, class 0 = blank), on the CPU: greedy best path and
/// prefix beam search. Both return class ids (blank excluded) in order.
/// </summary>
public static class CtcDecoding
{
    /// <summary>Best path: the argmax class of each frame, consecutive repeats merged, blanks removed.</summary>
    /// <param name="logProbabilities">Row-major scores, <paramref name="frames"/> × <paramref name="classes"/>.</param>
    /// <param name="frames">Frames to decode (the utterance's real frames).</param>
    /// <param name="classes">Classes per frame, blank = 0.</param>
    public static int[] Greedy(ReadOnlySpan<float> logProbabilities, int frames, int classes)
    {
        Check(logProbabilities.Length, frames, classes);
        var result = new List<int>();
        var previous = 0;
        for (var t = 0; t < frames; t++)
        {
            var row = logProbabilities.Slice(t * classes, classes);
            var best = 0;
            for (var c = 1; c < classes; c++)
            {
                if (row[c] > row[best])
                    best = c;
            }
            if (best != 0 && best != previous)
                result.Add(best);
            previous = best;
        }
        return result.ToArray();
    }

    /// <summary>
    /// CTC prefix beam search: every prefix keeps the probability of ending in blank and in its last class, so paths
    /// that collapse to the same text are summed; the <paramref name="beamWidth"/> most probable prefixes survive each
    /// frame. Scores must be log-probabilities (each row a log-softmax).
    /// </summary>
    /// <param name="logProbabilities">Row-major log-probabilities, <paramref name="frames"/> × <paramref name="classes"/>.</param>
    /// <param name="frames">Frames to decode.</param>
    /// <param name="classes">Classes per frame, blank = 0.</param>
    /// <param name="beamWidth">Prefixes kept per frame, &gt; 0.</param>
    public static int[] PrefixBeamSearch(ReadOnlySpan<float> logProbabilities, int frames, int classes, int beamWidth)
        => PrefixBeamSearch(logProbabilities, frames, classes, beamWidth, wordList: null);

    /// <summary>
    /// CTC prefix beam search biased by a word list (<paramref name="wordList"/>; null = the unbiased search). A prefix is
    /// ranked by its CTC log-probability minus <see cref="CtcWordList.OutOfListWordPenalty"/> for each word that cannot be,
    /// or did not become, a listed word. The penalty is charged as soon as the word being spelled stops being the start of
    /// any listed word, so a misspelling loses its rank while the beam can still hold the listed spelling; a word that ends
    /// (at the separator or at the last frame) as a proper start of a listed word is charged then. With an infinite
    /// penalty such prefixes are dropped, so the result is a sequence of listed words — or empty when no listed word fits
    /// the frames within the beam.
    /// </summary>
    /// <param name="logProbabilities">Row-major log-probabilities, <paramref name="frames"/> × <paramref name="classes"/>.</param>
    /// <param name="frames">Frames to decode.</param>
    /// <param name="classes">Classes per frame, blank = 0.</param>
    /// <param name="beamWidth">Prefixes kept per frame, &gt; 0.</param>
    /// <param name="wordList">The words to prefer (their class ids and the separator class), or null.</param>
    public static int[] PrefixBeamSearch(ReadOnlySpan<float> logProbabilities, int frames, int classes, int beamWidth, CtcWordList? wordList)
    {
        Check(logProbabilities.Length, frames, classes);
        Guard.Positive(beamWidth);
        if (wordList is not null && wordList.MaxClass >= classes)
            throw new ArgumentException($"The word list uses class {wordList.MaxClass}, but the scores have {classes} classes (0 … {classes - 1}).", nameof(wordList));
        var beams = new Dictionary<string, Prefix> { [""] = new Prefix([], 0, double.NegativeInfinity, "", false, 0) };
        for (var t = 0; t < frames; t++)
        {
            var row = logProbabilities.Slice(t * classes, classes);
            var next = new Dictionary<string, Prefix>();
            foreach (var (key, prefix) in beams)
            {
                var total = LogAdd(prefix.Blank, prefix.NonBlank);
                // Blank: the text stays.
                Add(next, key, prefix, total + row[0], double.NegativeInfinity);
                var last = prefix.Ids.Length == 0 ? -1 : prefix.Ids[^1];
                for (var c = 1; c < classes; c++)
                {
                    var p = (double)row[c];
                    if (c == last)
                    {
                        // A repeat without a blank between continues the same character; after a blank it starts a new one.
                        Add(next, key, prefix, double.NegativeInfinity, prefix.NonBlank + p);
                        if (Extend(prefix, key, c, wordList) is { } repeated)
                            Add(next, repeated.Key, repeated, double.NegativeInfinity, prefix.Blank + p);
                    }
                    else if (Extend(prefix, key, c, wordList) is { } extended)
                    {
                        Add(next, extended.Key, extended, double.NegativeInfinity, total + p);
                    }
                }
            }
            beams = next.OrderByDescending(b => Rank(b.Value)).ThenBy(b => b.Key, StringComparer.Ordinal)
                .Take(beamWidth).ToDictionary(b => b.Key, b => b.Value);
        }
        var finals = beams.Select(b => (b.Key, b.Value, Score: Rank(b.Value) - EndPenalty(b.Value, wordList)))
            .Where(b => wordList is null || !double.IsNegativeInfinity(b.Score)).ToList();
        return finals.Count == 0 ? [] : finals.OrderByDescending(b => b.Score).ThenBy(b => b.Key, StringComparer.Ordinal).First().Value.Ids;
    }

    /// <summary>The prefix's acoustic log-probability minus its word-list penalties.</summary>
    private static double Rank(Prefix prefix) => LogAdd(prefix.Blank, prefix.NonBlank) - prefix.Penalty;

    /// <summary>The penalty owed when the utterance ends inside a word that is only the start of a listed word.</summary>
    private static double EndPenalty(Prefix prefix, CtcWordList? wordList)
        => wordList is null || prefix.Word.Length == 0 || prefix.Outside || wordList.IsWord(prefix.Word) ? 0 : wordList.OutOfListWordPenalty;

    /// <summary>The prefix extended by class <paramref name="c"/> (probabilities not yet set), or null when the word list forbids it.</summary>
    private static Prefix? Extend(Prefix prefix, string key, int c, CtcWordList? wordList)
    {
        var ids = new int[prefix.Ids.Length + 1];
        prefix.Ids.CopyTo(ids, 0);
        ids[^1] = c;
        var extendedKey = key + "," + c;
        if (wordList is null)
            return new Prefix(ids, double.NegativeInfinity, double.NegativeInfinity, "", false, 0) { Key = extendedKey };
        string word;
        var outside = prefix.Outside;
        var penalty = prefix.Penalty;
        if (c == wordList.Separator)
        {
            // The word ends: a proper start of a listed word that is not itself listed is charged now.
            if (prefix.Word.Length > 0 && !prefix.Outside && !wordList.IsWord(prefix.Word))
                penalty += wordList.OutOfListWordPenalty;
            word = "";
            outside = false;
        }
        else
        {
            word = prefix.Word + "," + c;
            if (!outside && !wordList.IsStart(word))
            {
                penalty += wordList.OutOfListWordPenalty;
                outside = true;
            }
        }
        return double.IsPositiveInfinity(penalty) ? null : new Prefix(ids, double.NegativeInfinity, double.NegativeInfinity, word, outside, penalty) { Key = extendedKey };
    }

    /// <summary>A beam entry: class ids, log-probabilities of ending in blank / in the last class, the word being spelled
    /// (its ids as a key), whether that word has already left the word list, and the word-list penalty so far.</summary>
    private sealed record Prefix(int[] Ids, double Blank, double NonBlank, string Word, bool Outside, double Penalty)
    {
        public string Key { get; init; } = "";
    }

    private static void Add(Dictionary<string, Prefix> beams, string key, Prefix prefix, double blank, double nonBlank)
    {
        // Prefixes with the same key spell the same text, so their word state and penalty are the same.
        beams[key] = beams.TryGetValue(key, out var existing)
            ? existing with { Blank = LogAdd(existing.Blank, blank), NonBlank = LogAdd(existing.NonBlank, nonBlank) }
            : prefix with { Blank = blank, NonBlank = nonBlank, Key = key };
    }

    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a))
            return b;
        if (double.IsNegativeInfinity(b))
            return a;
        var max = Math.Max(a, b);
        return max + Math.Log(Math.Exp(a - max) + Math.Exp(b - max));
    }

    private static void Check(int length, int frames, int classes)
    {
        Guard.NonNegative(frames);
        if (classes < 2)
            throw new ArgumentOutOfRangeException(nameof(classes), $"CTC needs the blank and at least one class. Received: classes={classes}");
        if ((long)frames * classes > length)
            throw new ArgumentException($"Scores hold {length} values; expected at least frames × classes = {(long)frames * classes}. Received: frames={frames}, classes={classes}", nameof(frames));
    }
}

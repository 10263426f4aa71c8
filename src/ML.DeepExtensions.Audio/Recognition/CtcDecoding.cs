using System;
using System.Collections.Generic;
using System.Linq;

namespace ML.DeepExtensions.Audio;

/// <summary>How per-frame character scores become text.</summary>
public enum CtcDecoder
{
    /// <summary>Best class per frame, repeats merged, blanks removed.</summary>
    Greedy,
    /// <summary>CTC prefix beam search (Hannun et al., 2014) without a language model, keeping <see cref="SpeechRecognizerOptions.BeamWidth"/> prefixes.</summary>
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
    {
        Check(logProbabilities.Length, frames, classes);
        Guard.Positive(beamWidth);
        var beams = new Dictionary<string, Prefix> { [""] = new Prefix([], 0, double.NegativeInfinity) };
        for (var t = 0; t < frames; t++)
        {
            var row = logProbabilities.Slice(t * classes, classes);
            var next = new Dictionary<string, Prefix>();
            foreach (var (key, prefix) in beams)
            {
                var total = LogAdd(prefix.Blank, prefix.NonBlank);
                // Blank: the text stays.
                Add(next, key, prefix.Ids, total + row[0], double.NegativeInfinity);
                var last = prefix.Ids.Length == 0 ? -1 : prefix.Ids[^1];
                for (var c = 1; c < classes; c++)
                {
                    var p = (double)row[c];
                    if (c == last)
                    {
                        // A repeat without a blank between continues the same character; after a blank it starts a new one.
                        Add(next, key, prefix.Ids, double.NegativeInfinity, prefix.NonBlank + p);
                        Add(next, key + "," + c, [.. prefix.Ids, c], double.NegativeInfinity, prefix.Blank + p);
                    }
                    else
                    {
                        Add(next, key + "," + c, [.. prefix.Ids, c], double.NegativeInfinity, total + p);
                    }
                }
            }
            beams = next.OrderByDescending(b => LogAdd(b.Value.Blank, b.Value.NonBlank)).ThenBy(b => b.Key, StringComparer.Ordinal)
                .Take(beamWidth).ToDictionary(b => b.Key, b => b.Value);
        }
        return beams.OrderByDescending(b => LogAdd(b.Value.Blank, b.Value.NonBlank)).ThenBy(b => b.Key, StringComparer.Ordinal).First().Value.Ids;
    }

    private sealed record Prefix(int[] Ids, double Blank, double NonBlank);

    private static void Add(Dictionary<string, Prefix> beams, string key, int[] ids, double blank, double nonBlank)
    {
        beams[key] = beams.TryGetValue(key, out var existing)
            ? existing with { Blank = LogAdd(existing.Blank, blank), NonBlank = LogAdd(existing.NonBlank, nonBlank) }
            : new Prefix(ids, blank, nonBlank);
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

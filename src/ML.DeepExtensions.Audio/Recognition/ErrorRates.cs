using System;
using System.Collections.Generic;
using System.Linq;

namespace ML.DeepExtensions.Audio;

/// <summary>Edit operations of an alignment between a reference and a hypothesis.</summary>
/// <param name="Substitutions">Tokens replaced.</param>
/// <param name="Deletions">Reference tokens missing from the hypothesis.</param>
/// <param name="Insertions">Hypothesis tokens not in the reference.</param>
/// <param name="ReferenceLength">Tokens in the reference.</param>
public readonly record struct EditCounts(int Substitutions, int Deletions, int Insertions, int ReferenceLength)
{
    /// <summary>Substitutions + deletions + insertions (the Levenshtein distance).</summary>
    public int Errors => Substitutions + Deletions + Insertions;
}

/// <summary>
/// Word and character error rates: the minimum number of substitutions, deletions and insertions turning the reference
/// into the hypothesis (Levenshtein), over the reference length. Words are split on white space; characters are
/// compared after collapsing runs of white space to one space and trimming.
/// </summary>
public static class ErrorRates
{
    /// <summary>The edit counts between token sequences (ties prefer substitutions, then deletions, then insertions).</summary>
    public static EditCounts Align<T>(IReadOnlyList<T> reference, IReadOnlyList<T> hypothesis) where T : IEquatable<T>
    {
        Guard.NotNull(reference);
        Guard.NotNull(hypothesis);
        var n = reference.Count;
        var m = hypothesis.Count;
        // cost[i, j] with its operation counts; one row at a time.
        var previous = new (int Cost, int S, int D, int I)[m + 1];
        var current = new (int Cost, int S, int D, int I)[m + 1];
        for (var j = 0; j <= m; j++)
            previous[j] = (j, 0, 0, j);
        for (var i = 1; i <= n; i++)
        {
            current[0] = (i, 0, i, 0);
            for (var j = 1; j <= m; j++)
            {
                var diagonal = previous[j - 1];
                var same = reference[i - 1].Equals(hypothesis[j - 1]);
                (int Cost, int S, int D, int I) best = same ? diagonal : (diagonal.Cost + 1, diagonal.S + 1, diagonal.D, diagonal.I);
                var up = previous[j];
                if (up.Cost + 1 < best.Cost)
                    best = (up.Cost + 1, up.S, up.D + 1, up.I);
                var left = current[j - 1];
                if (left.Cost + 1 < best.Cost)
                    best = (left.Cost + 1, left.S, left.D, left.I + 1);
                current[j] = best;
            }
            (previous, current) = (current, previous);
        }
        var end = previous[m];
        return new EditCounts(end.S, end.D, end.I, n);
    }

    /// <summary>Word edit counts between two texts.</summary>
    public static EditCounts Words(string reference, string hypothesis) => Align(SplitWords(reference), SplitWords(hypothesis));

    /// <summary>Character edit counts between two texts (white space normalised).</summary>
    public static EditCounts Characters(string reference, string hypothesis)
        => Align(NormalizeSpaces(reference).ToCharArray(), NormalizeSpaces(hypothesis).ToCharArray());

    /// <summary>Word error rate of one pair: word edits / reference words (reference empty: 0 when the hypothesis is too, else 1).</summary>
    public static double WordErrorRate(string reference, string hypothesis) => Rate(Words(reference, hypothesis));

    /// <summary>Character error rate of one pair: character edits / reference characters.</summary>
    public static double CharacterErrorRate(string reference, string hypothesis) => Rate(Characters(reference, hypothesis));

    internal static string[] SplitWords(string? text) => (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    internal static string NormalizeSpaces(string? text) => string.Join(' ', SplitWords(text));

    private static double Rate(EditCounts counts) => counts.ReferenceLength == 0 ? (counts.Errors == 0 ? 0 : 1) : (double)counts.Errors / counts.ReferenceLength;
}

/// <summary>Speech recognition quality over a data set (corpus-level: edits summed over all rows, divided by the summed reference length).</summary>
public sealed class SpeechRecognitionMetrics
{
    internal SpeechRecognitionMetrics(EditCounts words, EditCounts characters, int rows, int exactRows)
    {
        WordEdits = words;
        CharacterEdits = characters;
        Rows = rows;
        SentenceAccuracy = rows == 0 ? double.NaN : (double)exactRows / rows;
    }

    /// <summary>Word error rate: (S + D + I) / reference words, over the whole set; can exceed 1.</summary>
    public double WordErrorRate => Rate(WordEdits);

    /// <summary>Character error rate over the whole set.</summary>
    public double CharacterErrorRate => Rate(CharacterEdits);

    /// <summary>Reference words recognised: 1 − (S + D) / reference words (insertions are not counted; see <see cref="WordErrorRate"/>).</summary>
    public double WordAccuracy => WordEdits.ReferenceLength == 0 ? double.NaN : 1 - (double)(WordEdits.Substitutions + WordEdits.Deletions) / WordEdits.ReferenceLength;

    /// <summary>Rows whose transcript equals the reference exactly (white space normalised).</summary>
    public double SentenceAccuracy { get; }

    /// <summary>Summed word edits.</summary>
    public EditCounts WordEdits { get; }

    /// <summary>Summed character edits.</summary>
    public EditCounts CharacterEdits { get; }

    /// <summary>Rows evaluated.</summary>
    public int Rows { get; }

    /// <summary>Corpus-level metrics of reference/hypothesis pairs.</summary>
    public static SpeechRecognitionMetrics From(IEnumerable<(string Reference, string Hypothesis)> pairs)
    {
        Guard.NotNull(pairs);
        int s = 0, d = 0, i = 0, n = 0, cs = 0, cd = 0, ci = 0, cn = 0, rows = 0, exact = 0;
        foreach (var (reference, hypothesis) in pairs)
        {
            var w = ErrorRates.Words(reference, hypothesis);
            var c = ErrorRates.Characters(reference, hypothesis);
            (s, d, i, n) = (s + w.Substitutions, d + w.Deletions, i + w.Insertions, n + w.ReferenceLength);
            (cs, cd, ci, cn) = (cs + c.Substitutions, cd + c.Deletions, ci + c.Insertions, cn + c.ReferenceLength);
            rows++;
            if (ErrorRates.NormalizeSpaces(reference) == ErrorRates.NormalizeSpaces(hypothesis))
                exact++;
        }
        return new SpeechRecognitionMetrics(new EditCounts(s, d, i, n), new EditCounts(cs, cd, ci, cn), rows, exact);
    }

    private static double Rate(EditCounts e) => e.ReferenceLength == 0 ? double.NaN : (double)e.Errors / e.ReferenceLength;

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"WER {WordErrorRate:P2}, CER {CharacterErrorRate:P2}, word accuracy {WordAccuracy:P2}, sentence accuracy {SentenceAccuracy:P2} over {Rows} rows");
}

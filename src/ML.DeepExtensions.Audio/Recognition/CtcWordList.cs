using System;
using System.Collections.Generic;
using System.Linq;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// A word list for <see cref="CtcDecoding.PrefixBeamSearch(ReadOnlySpan{float}, int, int, int, CtcWordList?)"/>, in class ids:
/// the words (each a non-empty sequence of classes ≥ 1 without the separator), the separator class between words (the
/// space), and the penalty, in natural-log probability, for each word that is not listed. The recogniser builds one from
/// <see cref="SpeechRecognizerOptions.WordList"/> and its vocabulary; build one yourself to decode your own scores.
/// </summary>
public sealed class CtcWordList
{
    private readonly HashSet<string> _words = new(StringComparer.Ordinal);
    private readonly HashSet<string> _starts = new(StringComparer.Ordinal);

    /// <summary>Creates a word list.</summary>
    /// <param name="words">The listed words as class ids (each non-empty, classes ≥ 1, without <paramref name="separator"/>); repeats are ignored.</param>
    /// <param name="separator">The class between words (the space character's class), ≥ 1; −1 when the vocabulary has none (one word per utterance).</param>
    /// <param name="outOfListWordPenalty">Log-probability charged for each word that is not listed, ≥ 0; +∞ (the default) lets only listed words through.</param>
    public CtcWordList(IEnumerable<IReadOnlyList<int>> words, int separator, double outOfListWordPenalty = double.PositiveInfinity)
    {
        Guard.NotNull(words);
        if (separator == 0 || separator < -1)
            throw new ArgumentOutOfRangeException(nameof(separator), $"The separator must be a class ≥ 1 (class 0 is the blank), or −1 for none. Received: separator={separator}");
        if (double.IsNaN(outOfListWordPenalty) || outOfListWordPenalty < 0)
            throw new ArgumentOutOfRangeException(nameof(outOfListWordPenalty), $"The penalty must be ≥ 0 (+∞ keeps only listed words). Received: outOfListWordPenalty={outOfListWordPenalty}");
        Separator = separator;
        OutOfListWordPenalty = outOfListWordPenalty;
        var index = 0;
        foreach (var word in words)
        {
            if (word is null || word.Count == 0)
                throw new ArgumentException($"Word {index} of the word list is empty; expected at least one class.", nameof(words));
            var key = "";
            foreach (var c in word)
            {
                if (c < 1 || c == separator)
                    throw new ArgumentException($"Word {index} of the word list holds class {c}; expected classes ≥ 1 other than the separator {separator}.", nameof(words));
                MaxClass = Math.Max(MaxClass, c);
                key += "," + c;
                _starts.Add(key);
            }
            _words.Add(key);
            index++;
        }
        if (_words.Count == 0)
            throw new ArgumentException("The word list holds no word; expected at least one (use no word list to decode without one).", nameof(words));
        Count = _words.Count;
    }

    /// <summary>The class between words, or −1.</summary>
    public int Separator { get; }

    /// <summary>Log-probability charged per word that is not listed (+∞: only listed words).</summary>
    public double OutOfListWordPenalty { get; }

    /// <summary>Distinct listed words.</summary>
    public int Count { get; }

    /// <summary>The largest class a listed word uses.</summary>
    internal int MaxClass { get; private set; }

    /// <summary>Whether the word (its ids as ",a,b,c") is listed.</summary>
    internal bool IsWord(string key) => _words.Contains(key);

    /// <summary>Whether the ids ",a,b" begin (or are) a listed word.</summary>
    internal bool IsStart(string key) => _starts.Contains(key);

    /// <summary>
    /// The word list of a recogniser: <paramref name="words"/> spelled in <paramref name="vocabulary"/>'s classes, the space as
    /// the separator. Throws naming the option, the word and the character when a word cannot be spelled.
    /// </summary>
    internal static CtcWordList From(IReadOnlyList<string> words, CharacterVocabulary vocabulary, double outOfListWordPenalty)
    {
        SpeechRecognizerOptions.CheckWordList(words, outOfListWordPenalty);
        var characters = vocabulary.Characters;
        var ids = new List<IReadOnlyList<int>>(words.Count);
        for (var i = 0; i < words.Count; i++)
        {
            var word = words[i];
            var spelled = new int[word.Length];
            for (var k = 0; k < word.Length; k++)
            {
                var id = characters.IndexOf(word[k], StringComparison.Ordinal);
                if (id < 0)
                    throw new ArgumentException(
                        $"WordList[{i}] (\"{word}\") has the character '{word[k]}' (U+{(int)word[k]:X4}) outside the recogniser's vocabulary \"{characters}\"; " +
                        "expected words spelled with the vocabulary's characters (the model can never output another). Received: WordList[" + i + "]=\"" + word + "\"", "WordList");
                spelled[k] = id + 1;
            }
            ids.Add(spelled);
        }
        var space = characters.IndexOf(' ', StringComparison.Ordinal);
        return new CtcWordList(ids, space < 0 ? -1 : space + 1, outOfListWordPenalty);
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML.Tokenizers;

namespace ML.DeepExtensions.Text.Tokenization;

/// <summary>
/// A word-level vocabulary: id 0 is padding, id 1 the unknown token, then words by falling frequency. Text is
/// split into words and punctuation runs by Microsoft.ML.Tokenizers' word-or-non-word pre-tokenizer
/// (<c>\w+|[^\w\s]+</c>), optionally lower-cased first.
/// </summary>
internal sealed class WordVocabulary
{
    public const int PaddingId = 0;
    public const int UnknownId = 1;

    private static readonly PreTokenizer Splitter = PreTokenizer.CreateWordOrNonWord();
    private readonly Dictionary<string, int> _ids;

    public WordVocabulary(IReadOnlyList<string> words, bool lowerCase)
    {
        if (words.Count < 2)
            throw new InvalidDataException($"A word vocabulary needs at least the padding and unknown tokens; it has {words.Count} entries.");
        Words = words;
        LowerCase = lowerCase;
        _ids = new Dictionary<string, int>(words.Count, StringComparer.Ordinal);
        for (var i = 0; i < words.Count; i++)
        {
            if (!_ids.TryAdd(words[i], i))
                throw new InvalidDataException($"The word vocabulary lists '{words[i]}' twice (ids {_ids[words[i]]} and {i}).");
        }
    }

    /// <summary>Token of each id.</summary>
    public IReadOnlyList<string> Words { get; }

    public bool LowerCase { get; }

    /// <summary>The words of a text, in order.</summary>
    public static IEnumerable<string> Split(ReadOnlySpan<char> text, bool lowerCase)
    {
        var source = lowerCase ? text.ToString().ToLower(CultureInfo.InvariantCulture) : text.ToString();
        return Splitter.PreTokenize(source).Select(range => source.Substring(range.Offset, range.Length)).ToList();
    }

    public IReadOnlyList<int> Encode(ReadOnlySpan<char> text)
        => Split(text, LowerCase).Select(word => _ids.TryGetValue(word, out var id) ? id : UnknownId).ToList();

    /// <summary>The first (or last) <paramref name="maxTokens"/> ids of <see cref="Encode(ReadOnlySpan{char})"/>, looking up only those words.</summary>
    public IReadOnlyList<int> Encode(ReadOnlySpan<char> text, int maxTokens, TruncationSide truncation)
    {
        var source = LowerCase ? text.ToString().ToLower(CultureInfo.InvariantCulture) : text.ToString();
        var words = Splitter.PreTokenize(source);
        var kept = truncation == TruncationSide.KeepLast ? words.TakeLast(maxTokens) : words.Take(maxTokens);
        return kept.Select(range => _ids.TryGetValue(source.Substring(range.Offset, range.Length), out var id) ? id : UnknownId).ToList();
    }

    public string Decode(IEnumerable<int> ids)
        => string.Join(" ", ids.Select(id => id >= 0 && id < Words.Count ? Words[id] : Words[UnknownId]));

    /// <summary>
    /// Learns a vocabulary from word counts: words seen at least <paramref name="minFrequency"/> times, most frequent
    /// first (ties in ordinal order), at most <paramref name="maxSize"/> entries including padding and unknown.
    /// </summary>
    public static string[] Learn(IReadOnlyDictionary<string, long> counts, int maxSize, int minFrequency, string paddingToken, string unknownToken)
    {
        var kept = counts
            .Where(pair => pair.Value >= minFrequency && pair.Key != paddingToken && pair.Key != unknownToken)
            .OrderByDescending(pair => pair.Value)
            .ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .Take(maxSize - 2)
            .Select(pair => pair.Key);
        return [paddingToken, unknownToken, .. kept];
    }
}

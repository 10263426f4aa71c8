using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// The recogniser's output classes: class 0 is the CTC blank, class i (≥ 1) is <c>Characters[i − 1]</c>. Transcripts are
/// compared with white space normalised (runs collapsed to one space, trimmed), so the space is a character like any other.
/// </summary>
internal sealed class CharacterVocabulary
{
    private readonly Dictionary<char, int> _ids;

    public CharacterVocabulary(string characters)
    {
        Characters = characters;
        _ids = new Dictionary<char, int>();
        for (var i = 0; i < characters.Length; i++)
        {
            if (!_ids.TryAdd(characters[i], i + 1))
                throw new ArgumentException($"Vocabulary characters must be distinct; '{characters[i]}' appears twice. Received: Vocabulary=\"{characters}\"", "Vocabulary");
        }
    }

    /// <summary>The characters of classes 1 … n.</summary>
    public string Characters { get; }

    /// <summary>Classes including the blank.</summary>
    public int Classes => Characters.Length + 1;

    /// <summary>Normalised transcript: white space runs collapsed to one space, trimmed.</summary>
    public static string Normalize(string text) => ErrorRates.NormalizeSpaces(text);

    /// <summary>The distinct characters of the normalised transcripts, sorted (ordinal).</summary>
    public static CharacterVocabulary From(IEnumerable<string> transcripts)
        => new(new string(transcripts.SelectMany(Normalize).Distinct().OrderBy(c => c).ToArray()));

    /// <summary>Class ids of a normalised transcript; throws naming the row and the character when one is outside the vocabulary.</summary>
    public int[] Encode(string normalized, string role, long row)
    {
        var ids = new int[normalized.Length];
        for (var i = 0; i < normalized.Length; i++)
        {
            if (!_ids.TryGetValue(normalized[i], out ids[i]))
                throw new InvalidDataException(
                    $"The {role} transcript of row {row} (\"{normalized}\") has the character '{normalized[i]}' (U+{(int)normalized[i]:X4}) outside the recogniser's vocabulary " +
                    $"\"{Characters}\"; expected only those characters. Clean the transcripts, or list every character in SpeechRecognizerOptions.Vocabulary.");
        }
        return ids;
    }

    public string Decode(IEnumerable<int> ids)
    {
        var text = new StringBuilder();
        foreach (var id in ids)
        {
            if (id >= 1 && id <= Characters.Length)
                text.Append(Characters[id - 1]);
        }
        return Normalize(text.ToString());
    }
}

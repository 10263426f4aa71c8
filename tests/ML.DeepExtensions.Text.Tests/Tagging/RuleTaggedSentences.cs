using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Text.Tests.Tagging;

/// <summary>
/// A word-tagging set from real text: the fortunes in data/fortunes (BSD), one quotation per row, with a tag per word
/// derived by fixed rules on the word's letters (punctuation around it stripped, lower-cased): <c>NUM</c> (has a digit or is a
/// number word), <c>DET</c> and <c>PRON</c> (closed word lists), <c>ADV</c> (ends in -ly), <c>ING</c> (ends in -ing), <c>ED</c>
/// (ends in -ed), else <c>O</c>. The suffix tags need the spelling of words the model has never seen, which WordPiece often
/// keeps as one piece: the encoder must know what is inside its pieces. Quotations of 4–40 words and at most 200 characters; even rows train, odd rows test.
/// </summary>
internal static class RuleTaggedSentences
{
    public sealed class Row
    {
        public string Sentence { get; set; } = "";

        public string[] Tags { get; set; } = [];
    }

    public static readonly string[] TagSet = ["O", "NUM", "DET", "PRON", "ADV", "ING", "ED"];

    private static readonly HashSet<string> Numbers = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "twenty", "hundred", "thousand", "million", "billion", "first", "second", "third"];

    private static readonly HashSet<string> Determiners = ["the", "a", "an", "this", "these", "those", "every", "each", "some", "any", "no"];

    private static readonly HashSet<string> Pronouns = ["i", "you", "he", "she", "it", "we", "they", "me", "him", "her", "us", "them",
        "my", "your", "his", "its", "our", "their", "myself", "yourself", "himself", "herself", "itself", "ourselves", "themselves"];

    public static string Tag(string word)
    {
        var core = word.Trim(['.', ',', ';', ':', '!', '?', '"', '\'', '(', ')', '[', ']', '-', '*', '`']).ToLowerInvariant();
        if (core.Any(char.IsDigit) || Numbers.Contains(core))
            return "NUM";
        if (Determiners.Contains(core))
            return "DET";
        if (Pronouns.Contains(core))
            return "PRON";
        if (core.Length > 4 && core.EndsWith("ly", StringComparison.Ordinal) && core.All(char.IsLetter))
            return "ADV";
        if (core.Length > 5 && core.EndsWith("ing", StringComparison.Ordinal) && core.All(char.IsLetter))
            return "ING";
        if (core.Length > 4 && core.EndsWith("ed", StringComparison.Ordinal) && core.All(char.IsLetter))
            return "ED";
        return "O";
    }

    public static Row Tagged(string sentence)
    {
        var words = sentence.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return new Row { Sentence = string.Join(' ', words), Tags = words.Select(Tag).ToArray() };
    }

    /// <summary>The first <paramref name="train"/> training rows and <paramref name="test"/> test rows.</summary>
    public static (Row[] Train, Row[] Test) Build(int train, int test)
    {
        var rows = File.ReadLines(TestData.RepoFile("data/fortunes/fortunes.tsv")).Skip(1)
            .Select(l => l[(l.IndexOf('\t') + 1)..])
            .Select(Tagged)
            .Where(r => r.Tags.Length is >= 4 and <= 40 && r.Sentence.Length <= 200)
            .ToArray();
        return (rows.Where((_, i) => i % 2 == 0).Take(train).ToArray(), rows.Where((_, i) => i % 2 == 1).Take(test).ToArray());
    }

    /// <summary>Rows as an IDataView with <c>Sentence</c> and a key-vector <c>Label</c> over <see cref="TagSet"/> (ML.NET's NER convention).</summary>
    public static IDataView Load(MLContext mlContext, IEnumerable<Row> rows)
    {
        var data = mlContext.Data.LoadFromEnumerable(rows);
        var keys = mlContext.Data.LoadFromEnumerable(TagSet.Select(t => new KeyRow { Tag = t }));
        return mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(Row.Tags), keyData: keys).Fit(data).Transform(data);
    }

    private sealed class KeyRow
    {
        public string Tag { get; set; } = "";
    }
}

using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;

namespace ML.DeepExtensions.Text.Tests.Classification;

/// <summary>The committed real text sets: the SpamAssassin subset (data/spam) and the fortunes sample (data/gpt2).</summary>
internal static class TextData
{
    public sealed class Email
    {
        [JsonPropertyName("id")] public string Id { get; set; } = "";
        [JsonPropertyName("group")] public string Group { get; set; } = "";
        [JsonPropertyName("spam")] public bool Label { get; set; }
        [JsonPropertyName("text")] public string Text { get; set; } = "";
    }

    public sealed class Quote
    {
        public string Topic { get; set; } = "";
        public string Text { get; set; } = "";
    }

    public sealed class Scored
    {
        public string Text { get; set; } = "";
        public float Label { get; set; }
    }

    /// <summary>1,050 e-mails (700 ham, 350 spam), see data/spam/README.md.</summary>
    public static IReadOnlyList<Email> Emails { get; } = File.ReadAllLines(TestData.RepoFile("data/spam/spam-assassin-subset.jsonl"))
        .Where(l => l.Length > 0)
        .Select(l => JsonSerializer.Deserialize<Email>(l)!)
        .ToArray();

    /// <summary>The 80 quotations of data/gpt2/fortunes-sample.txt: the first 40 are 'computers', the last 40 'science'.</summary>
    public static IReadOnlyList<Quote> Quotes { get; } = File.ReadAllText(TestData.RepoFile("data/gpt2/fortunes-sample.txt"))
        .Split("\n%\n")
        .Select(s => s.Trim('\n', '%'))
        .Where(s => s.Length > 0)
        .Select((s, i) => new Quote { Topic = i < 40 ? "computers" : "science", Text = s })
        .ToArray();

    /// <summary>400 quotations of four topics (computers, food, law, sports; 100 each), see data/fortunes-topics/README.md.</summary>
    public static IReadOnlyList<Quote> TopicQuotes { get; } = File.ReadAllLines(TestData.RepoFile("data/fortunes-topics/fortunes-topics.tsv"))
        .Where(l => l.Length > 0)
        .Select(l => l.Split('\t', 2))
        .Select(p => new Quote { Topic = p[0], Text = p[1] })
        .ToArray();

    /// <summary>A seeded split: every k-th row (by a fixed hash of the position) goes to the test part.</summary>
    public static (List<T> Train, List<T> Test) Split<T>(IReadOnlyList<T> rows, double testFraction, int seed = 7)
    {
        var random = new System.Random(seed);
        var order = Enumerable.Range(0, rows.Count).OrderBy(_ => random.Next()).ToArray();
        var testCount = (int)(rows.Count * testFraction);
        var test = order.Take(testCount).OrderBy(i => i).Select(i => rows[i]).ToList();
        var train = order.Skip(testCount).Select(i => rows[i]).ToList();
        return (train, test);
    }

    public static IDataView Load<T>(MLContext mlContext, IEnumerable<T> rows) where T : class => mlContext.Data.LoadFromEnumerable(rows.ToList());
}

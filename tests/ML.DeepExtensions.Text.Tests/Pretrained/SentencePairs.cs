using System;
using System.Collections.Generic;
using System.Linq;
using ML.DeepExtensions.Text.Tests.Classification;

namespace ML.DeepExtensions.Text.Tests.Pretrained;

/// <summary>
/// A real sentence-pair set built from the fortunes quotations (data/fortunes-topics): each quotation of at least 10 words is cut
/// at its middle word; its first half paired with its own second half is a similar pair (Label 1), paired with the second half
/// of another quotation (seeded choice) a dissimilar one (Label 0). Training and test pairs come from disjoint quotations.
/// </summary>
internal static class SentencePairs
{
    public sealed class Pair
    {
        public string Sentence1 { get; set; } = "";
        public string Sentence2 { get; set; } = "";
        public float Label { get; set; }
    }

    public static (List<Pair> Train, List<Pair> Test) Build(int trainQuotes, int testQuotes, int seed = 5)
    {
        var halves = TextData.TopicQuotes
            .Select(q => q.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Where(words => words.Length >= 10)
            .Select(words => (First: string.Join(" ", words.Take(words.Length / 2)), Second: string.Join(" ", words.Skip(words.Length / 2))))
            .ToArray();
        var (train, test) = TextData.Split(halves, (double)testQuotes / halves.Length, seed);
        return (Pairs(train.Take(trainQuotes).ToList(), seed), Pairs(test.Take(testQuotes).ToList(), seed + 1));
    }

    private static List<Pair> Pairs(List<(string First, string Second)> quotes, int seed)
    {
        var random = new Random(seed);
        var result = new List<Pair>();
        for (var i = 0; i < quotes.Count; i++)
        {
            result.Add(new Pair { Sentence1 = quotes[i].First, Sentence2 = quotes[i].Second, Label = 1 });
            var other = (i + 1 + random.Next(quotes.Count - 1)) % quotes.Count;
            result.Add(new Pair { Sentence1 = quotes[i].First, Sentence2 = quotes[other].Second, Label = 0 });
        }
        return result;
    }

    /// <summary>Area under the ROC curve of <paramref name="scores"/> for labels 1 vs 0 (ties count one half).</summary>
    public static double Auc(IReadOnlyList<float> scores, IReadOnlyList<float> labels)
    {
        var positives = scores.Where((_, i) => labels[i] > 0.5).ToArray();
        var negatives = scores.Where((_, i) => labels[i] <= 0.5).ToArray();
        double wins = 0;
        foreach (var p in positives)
            foreach (var n in negatives)
                wins += p > n ? 1 : p == n ? 0.5 : 0;
        return wins / (positives.Length * (double)negatives.Length);
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Text.Tests.Tokenization;

namespace ML.DeepExtensions.Text.Tests;

/// <summary>Files committed under data/ (see data/README.md) and small helpers to run transforms on texts.</summary>
internal static class TestData
{
    public static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"'{relative}' not found above {AppContext.BaseDirectory}.");
    }

    public static string Gpt2Encoder => RepoFile("data/gpt2/encoder.json");

    public static string Gpt2Merges => RepoFile("data/gpt2/vocab.bpe");

    private static readonly Lazy<ReferenceGpt2Encoder> LazyReference = new(() => new ReferenceGpt2Encoder(Gpt2Encoder, Gpt2Merges));

    public static ReferenceGpt2Encoder Reference => LazyReference.Value;

    /// <summary>80 real quotations (Debian fortunes, 'computers' and 'science') and sentences that exercise contractions, digits, white space and non-ASCII text.</summary>
    public static IReadOnlyList<string> Sentences { get; } = File.ReadAllText(RepoFile("data/gpt2/fortunes-sample.txt"))
        .Split("\n%\n")
        .Select(s => s.TrimEnd('\n'))
        .Concat(
        [
            "I'm sure they'll say it's fine, but we'd rather you've checked.",
            "Prices rose 3.5% in 2023 — from $1,299.99 to $1,345.",
            "Café déjà vu: naïve coöperation in Zürich.",
            "Tabs\tand  double  spaces   and trailing space ",
            "Line one\nLine two\r\nLine three",
            "Emoji 🙂 and CJK 日本語 and Greek αβγ.",
        ])
        .ToList();

    public sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    public static IDataView Texts(MLContext mlContext, IEnumerable<string> texts)
        => mlContext.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t }).ToList());

    /// <summary>The dense values of an Int32 vector column, one array per row.</summary>
    public static int[][] Ids(IDataView data, string column)
        => data.GetColumn<VBuffer<int>>(column).Select(v => v.DenseValues().ToArray()).ToArray();
}

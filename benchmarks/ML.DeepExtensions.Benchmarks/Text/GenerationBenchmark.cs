using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Text.Generation;
using TorchSharp;

namespace ML.DeepExtensions.Benchmarks.Text;

/// <summary>
/// Generation speed with and without the key/value cache (issue 15): a GPT-style model trained on fortunes generates
/// 64 new tokens for a batch of prompts and for one prompt alone, cached and uncached alternating, in one process;
/// the texts of both must be identical. <c>--generation</c> (or <c>--generation-quick</c>: fewer texts, one round).
/// </summary>
internal static class GenerationBenchmark
{
    private const int MaxLength = 128;
    private const int NewTokens = 64;
    private const int Seed = 1;

    public static bool Wants(string[] args) => args.Contains("--generation") || args.Contains("--generation-quick");

    public static int Run(string[] args)
    {
        var quick = args.Contains("--generation-quick");
        var threads = 1;
        var t = Array.IndexOf(args, "--threads");
        if (t >= 0 && t + 1 < args.Length && int.TryParse(args[t + 1], out var n) && n > 0)
            threads = n;
        var rounds = quick ? 1 : 3;
        var total = Stopwatch.StartNew();
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(threads);
        var root = DigitsData.RepoRoot();
        var rows = TextBenchmark.Load(Path.Combine(root, "data", "fortunes", "fortunes.tsv")).ToArray();
        new Random(Seed).Shuffle(rows);
        rows = rows.Take(quick ? 400 : 2_000).ToArray();
        var mlContext = new MLContext(seed: Seed);
        var raw = mlContext.Data.LoadFromEnumerable(rows);
        Log($"Training the GPT on {rows.Length} fortunes…");
        var model = mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Tokens", nameof(FortuneRow.Text), maxLength: MaxLength)
            .Append(mlContext.Transforms.Text.TrainLanguageModel(new LanguageModelOptions
            {
                TokenColumnName = "Tokens",
                Dimensions = 64,
                Layers = 2,
                Heads = 4,
                Epochs = quick ? 1 : 2,
                BatchSize = 32,
                LearningRate = 1e-3,
            }))
            .Fit(raw).LastTransformer;
        var prompts = rows.Take(32).Select(r => string.Join(' ', r.Text.Split(' ').Take(3))).ToArray();
        // MinNewTokens = MaxNewTokens: every row generates exactly 64 tokens (fortunes are short, the model soon predicts the
        // end of the text). Same seed, so both sides must generate the same text.
        GenerationOptions Options(bool cache) => new() { MaxNewTokens = NewTokens, MinNewTokens = NewTokens, Temperature = 1.0, TopK = 50, Seed = 3, UseKeyValueCache = cache };

        var cases = new List<(string Name, string[] Prompts)> { ("batch of 32 prompts", prompts), ("one prompt", prompts.Take(1).ToArray()) };
        var results = new List<(string Name, int Tokens, double Cached, double Uncached, bool Identical)>();
        foreach (var (name, batch) in cases)
        {
            var cachedText = model.Generate(batch, Options(true)); // warm-up, and the texts to compare
            var uncachedText = model.Generate(batch, Options(false));
            var identical = cachedText.SequenceEqual(uncachedText);
            var tokens = cachedText.Sum(text => model.Tokenizer.EncodeToIds(text).Count());
            var cached = new List<double>();
            var uncached = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                foreach (var (cache, rates) in new[] { (false, uncached), (true, cached) })
                {
                    GC.Collect();
                    var clock = Stopwatch.StartNew();
                    model.Generate(batch, Options(cache));
                    rates.Add(tokens / clock.Elapsed.TotalSeconds);
                }
                Log($"{name}, round {round + 1}/{rounds}: cached {cached[^1]:F0} tokens/s, uncached {uncached[^1]:F0} tokens/s");
            }
            results.Add((name, tokens, Bench.Median(cached), Bench.Median(uncached), identical));
        }

        var text = new StringBuilder();
        text.AppendLine("# ML.DeepExtensions generation benchmark: key/value cache");
        text.AppendLine();
        text.AppendLine("| | |");
        text.AppendLine("|---|---|");
        text.AppendLine($"| Date (UTC) | {DateTime.UtcNow:yyyy-MM-dd HH:mm} |");
        text.AppendLine($"| Machine | {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture}) |");
        text.AppendLine($"| Runtime | .NET {Environment.Version}, torch threads {threads} |");
        text.AppendLine($"| Model | `TrainLanguageModel(Dimensions = 64, Layers = 2, Heads = 4)` after a word vocabulary with MaxLength {MaxLength}, trained on {rows.Length:N0} fortunes (`data/fortunes/fortunes.tsv`) |");
        text.AppendLine($"| Generation | {NewTokens} new tokens per prompt (`MinNewTokens = MaxNewTokens`), temperature 1, top-k 50, seed 3; prompts = the first 3 words of fortunes; generated tokens counted by re-encoding the texts; median of {rounds} rounds, cached and uncached alternating |");
        text.AppendLine($"| Command | `dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks -- {string.Join(' ', args)}` ({total.Elapsed.TotalSeconds:F0} s) |");
        text.AppendLine();
        text.AppendLine("*Cached* = `GenerationOptions.UseKeyValueCache = true` (the default): one full pass over the prompts, then one position per new token. " +
                        "*Uncached* = `false`: a full pass over every context for every new token (the behaviour before the cache).");
        text.AppendLine();
        text.AppendLine("| Case | Generated tokens | Cached tokens/s | Uncached tokens/s | Speed-up | Same text? |");
        text.AppendLine("|---|---:|---:|---:|---:|:---:|");
        foreach (var r in results)
            text.AppendLine($"| {r.Name} | {r.Tokens:N0} | {r.Cached:N0} | {r.Uncached:N0} | **{(r.Cached / r.Uncached).ToString("F2", CultureInfo.InvariantCulture)}×** | {(r.Identical ? "yes" : "**no**")} |");
        var markdown = text.ToString();
        Console.WriteLine(markdown);
        var outPath = Path.Combine(root, "benchmarks", "results", quick ? "generation-quick.md" : "generation.md");
        File.WriteAllText(outPath, markdown);
        Log($"Wrote {outPath}.");
        return results.All(r => r.Identical) ? 0 : 1;
    }

    private static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
}

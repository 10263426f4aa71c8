using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Text;

/// <summary>Settings of the <c>--text</c> / <c>--text-quick</c> runs.</summary>
internal sealed record TextSettings(bool Quick, int Rows, int Repeats, int EngineRows, int Threads, string? OutPath, string Arguments)
{
    /// <summary>Texts of the GPT runs (its epochs are ~10× slower than the classifiers').</summary>
    public int GptRows { get; init; } = Rows;

    /// <summary>Timed runs of the GPT (each = ours + three raw epochs).</summary>
    public int GptRepeats { get; init; } = Repeats;

    public const int Seed = 1;
    public const int BatchSize = 32;
    public const int MaxLength = 64;
    public const int Dimensions = 32;
    public const int GptDimensions = 64;
    public const double LearningRate = 1e-3;

    public string Mode => Quick ? "quick" : "full";

    public static bool Wants(string[] args) => args.Contains("--text") || args.Contains("--text-quick");

    public static TextSettings? Parse(string[] args)
    {
        bool? quick = null;
        int? rows = null, repeats = null;
        var threads = 1;
        string? outPath = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--text":
                    quick = false;
                    break;
                case "--text-quick":
                    quick = true;
                    break;
                case "--threads" when i + 1 < args.Length && int.TryParse(args[i + 1], out var t) && t > 0:
                    threads = t;
                    i++;
                    break;
                case "--rows" when i + 1 < args.Length && int.TryParse(args[i + 1], out var r) && r > 0:
                    rows = r;
                    i++;
                    break;
                case "--repeats" when i + 1 < args.Length && int.TryParse(args[i + 1], out var rp) && rp > 0:
                    repeats = rp;
                    i++;
                    break;
                case "--out" when i + 1 < args.Length:
                    outPath = args[++i];
                    break;
                default:
                    return null;
            }
        }
        if (quick is null)
            return null;
        var settings = quick.Value
            ? new TextSettings(true, Rows: 320, Repeats: 1, EngineRows: 100, threads, outPath, "")
            : new TextSettings(false, Rows: 4_000, Repeats: 5, EngineRows: 500, threads, outPath, "") { GptRows = 2_000, GptRepeats = 3 };
        return settings with
        {
            Arguments = string.Join(" ", args),
            Rows = rows ?? settings.Rows,
            Repeats = repeats ?? settings.Repeats,
            GptRows = Math.Min(rows ?? settings.GptRows, settings.GptRows),
            GptRepeats = Math.Min(repeats ?? settings.GptRepeats, settings.GptRepeats),
        };
    }
}

/// <summary>One fortune: its category and text.</summary>
internal sealed class FortuneRow
{
    public string Category { get; set; } = "";

    public string Text { get; set; } = "";
}

/// <summary>PredictionEngine output of the classifiers.</summary>
internal sealed class TextScore
{
    public float[] Score { get; set; } = [];
}

internal sealed record ClassifierResult(string Name, string Code, long Parameters, long Tokens, double OursTokensPerSecond, double RawTokensPerSecond,
    double OursLoss, double RawLoss, string Spread, double BucketedTokensPerSecond, long ShuffledPositions, long BucketedPositions, long PaddedPositions,
    double TransformTokensPerSecond, double EngineTokensPerSecond, double RawForwardTokensPerSecond, double MaxAbsDifference, double? TrainingLoad, double? ScoringLoad,
    double OursBucketedTokensPerSecond)
{
    public double Ratio => RawTokensPerSecond / OursTokensPerSecond;
}

internal sealed record GptResult(string Code, long Parameters, long Tokens, double OursTokensPerSecond, double RawTokensPerSecond, double OursLoss, double RawLoss, string Spread,
    double BucketedTokensPerSecond, double PaddedTokensPerSecond, long ShuffledPositions, long BucketedPositions, long PaddedPositions,
    double EvaluateTokensPerSecond, double Perplexity, double? Load, double RawWithMetricsTokensPerSecond, double OursBucketedTokensPerSecond)
{
    public double Ratio => RawTokensPerSecond / OursTokensPerSecond;
}

/// <summary>
/// The text benchmark of issue 4: training tokens/s of the LSTM, GRU and Transformer text classifiers and the GPT language model,
/// ours (the real trainers' <c>Fit</c>) against a hand-written TorchSharp loop on the same network from the same seed; scoring
/// tokens/s (batched Transform vs PredictionEngine); and the cost of padding vs length bucketing, on data/fortunes/fortunes.tsv.
/// </summary>
internal static class TextBenchmark
{
    private static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

    public static int Run(string[] args)
    {
        var settings = TextSettings.Parse(args);
        if (settings is null)
        {
            Console.Error.WriteLine("usage: dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks -- --text|--text-quick [--threads N (default 1)] [--rows N] [--repeats N] [--out FILE]");
            return 2;
        }
        var total = Stopwatch.StartNew();
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(settings.Threads);
        var root = DigitsData.RepoRoot();
        var outPath = settings.OutPath ?? Path.Combine(root, "benchmarks", "results", settings.Quick ? "text-quick.md" : "text-latest.md");
        var report = new TextReport(settings);

        var all = Load(Path.Combine(root, "data", "fortunes", "fortunes.tsv"));
        // A fixed shuffle so that the subset mixes every category (the file is sorted by category).
        var shuffledRows = all.ToArray();
        new Random(TextSettings.Seed).Shuffle(shuffledRows);
        var rows = shuffledRows.Take(settings.Rows).ToArray();
        report.Rows = rows.Length;
        var mlContext = new MLContext(seed: TextSettings.Seed);
        var raw = mlContext.Data.LoadFromEnumerable(rows);
        var view = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(FortuneRow.Category)).Fit(raw).Transform(raw);
        view = mlContext.Data.Cache(view);

        var cases = new[]
        {
            ("BiLSTM", $"TextEncoder.Lstm(hiddenSize: {TextSettings.Dimensions})", TextEncoder.Lstm(TextSettings.Dimensions)),
            ("BiGRU", $"TextEncoder.Gru(hiddenSize: {TextSettings.Dimensions})", TextEncoder.Gru(TextSettings.Dimensions)),
            ("Transformer", "TextEncoder.Transformer(layers: 2, heads: 4)", TextEncoder.Transformer(layers: 2, heads: 4)),
        };
        foreach (var (name, code, encoder) in cases)
        {
            report.Classifiers.Add(Classifier(settings, name, code, encoder, view, rows));
            report.Write(outPath, total.Elapsed.TotalSeconds);
        }
        var gptRows = rows.Take(settings.GptRows).ToArray();
        report.GptRows = gptRows.Length;
        report.Gpt = Gpt(settings, mlContext.Data.LoadFromEnumerable(gptRows));
        total.Stop();
        var markdown = report.Write(outPath, total.Elapsed.TotalSeconds);
        Console.WriteLine(markdown);
        Log($"Wrote {Path.GetFullPath(outPath)} ({total.Elapsed.TotalSeconds:F0} s in all).");
        return 0;
    }

    internal static List<FortuneRow> Load(string path)
    {
        var result = new List<FortuneRow>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var tab = line.IndexOf('\t');
            if (tab > 0 && tab < line.Length - 1)
                result.Add(new FortuneRow { Category = line[..tab], Text = line[(tab + 1)..] });
        }
        return result;
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>The trainer's options; <paramref name="bucketing"/> off for the side-by-side with the raw loop's shuffled batches.</summary>
    private static NeuralTextMulticlassOptions Options(TextEncoder encoder, bool bucketing = false) => new()
    {
        LengthBucketing = bucketing,
        LabelColumnName = "Label",
        TextColumnName = nameof(FortuneRow.Text),
        Network = encoder,
        EmbeddingDimensions = TextSettings.Dimensions,
        MaxLength = TextSettings.MaxLength,
        Epochs = 1,
        BatchSize = TextSettings.BatchSize,
        LearningRate = TextSettings.LearningRate,
    };

    private static TransformerChain<NeuralNetworkTransformer> Fit(TextEncoder encoder, IDataView view, bool bucketing = false)
        => new MLContext(seed: TextSettings.Seed).MulticlassClassification.Trainers.NeuralTextClassifier(Options(encoder, bucketing)).Fit(view);

    private static (int[][] Ids, int[] Lengths) TokenIds(ITransformer tokenizer, IDataView view, string column, int paddingId)
    {
        var ids = tokenizer.Transform(view).GetColumn<int[]>(column).ToArray();
        var lengths = ids.Select(r => Math.Max(1, r.Count(id => id != paddingId))).ToArray();
        return (ids, lengths);
    }

    private static ClassifierResult Classifier(TextSettings settings, string name, string code, TextEncoder encoder, IDataView view, FortuneRow[] rows)
    {
        Log($"{name}: warm-up fit (1 epoch of {rows.Length} texts)…");
        var meter = LoadMeter.Start();
        var warm = Fit(encoder, view);
        var tokenizer = (TokenizingTransformer)warm.First();
        var network = warm.LastTransformer.Network;
        var inputShape = warm.LastTransformer.InputShape.ToArray();
        var (ids, lengths) = TokenIds(tokenizer, view, tokenizer.OutputColumnName, tokenizer.PaddingId);
        var labels = view.GetColumn<uint>("Label").Select(k => (long)k - 1).ToArray();
        var tokens = lengths.Sum(l => (long)l);
        var n = ids.Length;
        var width = ids[0].Length;
        using var x = torch.tensor(ids.SelectMany(r => r.Select(i => (float)i)).ToArray(), new long[] { n, width });
        using var y = torch.tensor(labels, new long[] { n });
        long parameters;
        using (var rawWarm = new TextRawTrainer(network, inputShape, x, y, TextSettings.Seed, TextSettings.LearningRate))
        {
            parameters = rawWarm.Parameters;
            rawWarm.Epoch(Batches.Make(lengths, TextSettings.BatchSize, TextSettings.Seed, 0, BatchPlan.Shuffled));
        }
        warm.LastTransformer.Dispose();

        var shuffled = Batches.Make(lengths, TextSettings.BatchSize, TextSettings.Seed, 0, BatchPlan.Shuffled);
        var bucketed = Batches.Make(lengths, TextSettings.BatchSize, TextSettings.Seed, 0, BatchPlan.Bucketed);
        var extra = encoder.Kind == TextEncoderKind.Transformer ? 1 : 0; // the learned [CLS] in front
        var ours = new List<double>();
        var rawRates = new List<double>();
        var bucketRates = new List<double>();
        var oursBucketed = new List<double>();
        double oursLoss = double.NaN, rawLoss = double.NaN;
        TransformerChain<NeuralNetworkTransformer>? last = null;
        for (var rep = 0; rep < settings.Repeats; rep++)
        {
            Collect();
            last?.LastTransformer.Dispose();
            last = Fit(encoder, view);
            var epoch = last.LastTransformer.History[0];
            ours.Add(tokens / epoch.Duration.TotalSeconds);
            oursLoss = epoch.TrainingLoss;

            Collect();
            using (var rawTrainer = new TextRawTrainer(network, inputShape, x, y, TextSettings.Seed, TextSettings.LearningRate))
            {
                var clock = Stopwatch.StartNew();
                rawLoss = rawTrainer.Epoch(shuffled);
                rawRates.Add(tokens / clock.Elapsed.TotalSeconds);
            }

            Collect();
            using (var rawTrainer = new TextRawTrainer(network, inputShape, x, y, TextSettings.Seed, TextSettings.LearningRate))
            {
                var clock = Stopwatch.StartNew();
                rawTrainer.Epoch(bucketed);
                bucketRates.Add(tokens / clock.Elapsed.TotalSeconds);
            }

            Collect();
            using (var withBuckets = Fit(encoder, view, bucketing: true).LastTransformer)
                oursBucketed.Add(tokens / withBuckets.History[0].Duration.TotalSeconds);
            Log($"{name} training run {rep + 1}/{settings.Repeats}: ours {ours[^1]:F0} tokens/s, raw {rawRates[^1]:F0}, raw bucketed {bucketRates[^1]:F0}, " +
                $"ours with LengthBucketing {oursBucketed[^1]:F0} (loss {oursLoss:F4} / {rawLoss:F4})");
        }
        var trainingLoad = meter.OtherCores();

        // Scoring with the last fitted chain (tokenizer + network).
        meter = LoadMeter.Start();
        var mlContext = new MLContext(seed: TextSettings.Seed);
        var textView = mlContext.Data.LoadFromEnumerable(rows.Select(r => new FortuneRow { Text = r.Text }));
        var engine = mlContext.Model.CreatePredictionEngine<FortuneRow, TextScore>(last!);
        var engineRows = rows.Take(settings.EngineRows).ToArray();
        var engineTokens = lengths.Take(engineRows.Length).Sum(l => (long)l);
        var check = Math.Min(100, engineRows.Length);
        var batchedScores = last!.Transform(mlContext.Data.TakeRows(textView, check)).GetColumn<float[]>("Score").ToArray();
        var maxDiff = engineRows.Take(check).Select((r, i) => engine.Predict(r).Score.Zip(batchedScores[i], (p, q) => Math.Abs(p - q)).Max()).Max();
        var (rawModel, rawModule) = VisionRawTrainer.Build(network, inputShape, TextSettings.Seed);
        RawForward.Seconds(rawModule, x, last.LastTransformer.ScoringBatchSize);
        var transform = new List<double>();
        var predict = new List<double>();
        var rawForward = new List<double>();
        for (var rep = 0; rep < settings.Repeats; rep++)
        {
            Collect();
            var clock = Stopwatch.StartNew();
            var count = TransformPass(last, textView);
            transform.Add(tokens / clock.Elapsed.TotalSeconds);
            if (count != n)
                throw new InvalidOperationException($"Transform scored {count} rows, expected {n}.");

            Collect();
            var output = new TextScore();
            double checksum = 0;
            clock.Restart();
            foreach (var row in engineRows)
            {
                engine.Predict(row, ref output);
                checksum += output.Score[0];
            }
            predict.Add(engineTokens / clock.Elapsed.TotalSeconds);

            Collect();
            rawForward.Add(tokens / RawForward.Seconds(rawModule, x, last.LastTransformer.ScoringBatchSize));
            Log($"{name} scoring run {rep + 1}/{settings.Repeats}: Transform {transform[^1]:F0} tokens/s, PredictionEngine {predict[^1]:F0}, raw forward {rawForward[^1]:F0}");
        }
        engine.Dispose();
        rawModel.Dispose();
        last.LastTransformer.Dispose();
        return new ClassifierResult(name, code, parameters, tokens, Bench.Median(ours), Bench.Median(rawRates), oursLoss, rawLoss,
            $"{ours.Min():F0}–{ours.Max():F0} / {rawRates.Min():F0}–{rawRates.Max():F0}", Bench.Median(bucketRates),
            Batches.Positions(shuffled, lengths, extra, width + extra, false), Batches.Positions(bucketed, lengths, extra, width + extra, false), (long)n * (width + extra),
            Bench.Median(transform), Bench.Median(predict), Bench.Median(rawForward), maxDiff, trainingLoad, meter.OtherCores(), Bench.Median(oursBucketed));
    }

    private static long TransformPass(ITransformer model, IDataView view)
    {
        var scored = model.Transform(view);
        var column = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor(new[] { column });
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> score = default;
        long count = 0;
        while (cursor.MoveNext())
        {
            getter(ref score);
            count++;
        }
        return count;
    }

    private static GptResult Gpt(TextSettings settings, IDataView raw)
    {
        Log("GPT: tokenizing and warm-up fit…");
        var meter = LoadMeter.Start();
        var mlContext = new MLContext(seed: TextSettings.Seed);
        var tokenizer = mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Tokens", nameof(FortuneRow.Text), maxLength: TextSettings.MaxLength).Fit(raw);
        var tokenView = mlContext.Data.Cache(tokenizer.Transform(raw));
        var options = new LanguageModelOptions
        {
            TokenColumnName = "Tokens",
            Tokenizer = tokenizer,
            Dimensions = TextSettings.GptDimensions,
            Layers = 2,
            Heads = 4,
            Epochs = 1,
            BatchSize = TextSettings.BatchSize,
            LearningRate = TextSettings.LearningRate,
            LengthBucketing = false, // the side-by-side: the raw loop's shuffled batches; bucketing is timed separately
        };
        LanguageModelTransformer FitGpt() => new MLContext(seed: TextSettings.Seed).Transforms.Text.TrainLanguageModel(options).Fit(tokenView);

        var padding = tokenizer.PaddingId;
        var all = tokenView.GetColumn<int[]>("Tokens").ToArray();
        var rows = all.Where(r => r[0] != padding).ToArray(); // as the estimator: rows without tokens are skipped
        var lengths = rows.Select(r => r.Count(id => id != padding)).ToArray();
        var maxLength = tokenizer.MaxLength;
        // Predicted positions: every token plus the end-of-text target when it fits.
        var tokens = lengths.Sum(l => (long)Math.Min(maxLength, l + 1));
        var network = Network.Create()
            .Transformer(tokenizer.VocabularySize, options.Dimensions, maxLength, padding, options.Layers, options.Heads, options.FeedForward, options.Dropout, causal: true)
            .Dense(tokenizer.VocabularySize);
        var warm = FitGpt();
        long parameters;
        using (var rawWarm = new GptRawTrainer(network, rows, lengths, maxLength, padding, TextSettings.Seed, TextSettings.LearningRate))
        {
            parameters = rawWarm.Parameters;
            rawWarm.Epoch(Batches.Make(lengths, TextSettings.BatchSize, TextSettings.Seed, 0, BatchPlan.Shuffled), padded: false);
        }
        var shuffled = Batches.Make(lengths, TextSettings.BatchSize, TextSettings.Seed, 0, BatchPlan.Shuffled);
        var bucketed = Batches.Make(lengths, TextSettings.BatchSize, TextSettings.Seed, 0, BatchPlan.Bucketed);
        var ours = new List<double>();
        var rawRates = new List<double>();
        var bucketRates = new List<double>();
        var paddedRates = new List<double>();
        var metricRates = new List<double>();
        var oursBucketed = new List<double>();
        double oursLoss = double.NaN, rawLoss = double.NaN;
        for (var rep = 0; rep < settings.GptRepeats; rep++)
        {
            Collect();
            var model = FitGpt();
            ours.Add(tokens / model.History[0].Duration.TotalSeconds);
            oursLoss = model.History[0].TrainingLoss;
            foreach (var (plan, rates, withMetrics) in new[] { (BatchPlan.Shuffled, rawRates, false), (BatchPlan.Bucketed, bucketRates, false), (BatchPlan.PaddedToMax, paddedRates, false), (BatchPlan.Shuffled, metricRates, true) })
            {
                Collect();
                using var rawTrainer = new GptRawTrainer(network, rows, lengths, maxLength, padding, TextSettings.Seed, TextSettings.LearningRate);
                var clock = Stopwatch.StartNew();
                var loss = rawTrainer.Epoch(plan == BatchPlan.Bucketed ? bucketed : shuffled, padded: plan == BatchPlan.PaddedToMax, metrics: withMetrics);
                rates.Add(tokens / clock.Elapsed.TotalSeconds);
                if (plan == BatchPlan.Shuffled && !withMetrics)
                    rawLoss = loss;
            }
            Collect();
            options.LengthBucketing = true;
            using (var withBuckets = FitGpt())
                oursBucketed.Add(tokens / withBuckets.History[0].Duration.TotalSeconds);
            options.LengthBucketing = false;
            Log($"GPT training run {rep + 1}/{settings.GptRepeats}: ours {ours[^1]:F0} tokens/s, raw {rawRates[^1]:F0}, bucketed {bucketRates[^1]:F0}, padded {paddedRates[^1]:F0}, raw + per-step metrics {metricRates[^1]:F0}, " +
                $"ours with LengthBucketing {oursBucketed[^1]:F0} (loss {oursLoss:F4} / {rawLoss:F4})");
        }
        // Scoring: EvaluateLanguageModel (batched teacher-forced forward passes) over the same texts.
        Collect();
        var evalClock = Stopwatch.StartNew();
        var metrics = mlContext.Transforms.Text.EvaluateLanguageModel(warm, raw);
        var evaluate = tokens / evalClock.Elapsed.TotalSeconds;
        Log($"GPT evaluate: {evaluate:F0} tokens/s");
        return new GptResult($"TrainLanguageModel(Dimensions = {options.Dimensions}, Layers = 2, Heads = 4)", parameters, tokens, Bench.Median(ours), Bench.Median(rawRates), oursLoss, rawLoss,
            $"{ours.Min():F0}–{ours.Max():F0} / {rawRates.Min():F0}–{rawRates.Max():F0}", Bench.Median(bucketRates), Bench.Median(paddedRates),
            Batches.Positions(shuffled, lengths, 1, maxLength, false), Batches.Positions(bucketed, lengths, 1, maxLength, false), (long)rows.Length * maxLength,
            evaluate, metrics.Perplexity, meter.OtherCores(), Bench.Median(metricRates), Bench.Median(oursBucketed));
    }

    public static string N(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}

internal sealed class TextReport
{
    private readonly TextSettings _settings;

    public TextReport(TextSettings settings) => _settings = settings;

    public double? LoadAverageAtStart { get; } = LoadMeter.LoadAverage();

    public int Rows { get; set; }

    public int GptRows { get; set; }

    public List<ClassifierResult> Classifiers { get; } = new();

    public GptResult? Gpt { get; set; }

    private static string N(double value, string format) => TextBenchmark.N(value, format);

    private static double LoadThreshold => Math.Max(0, Environment.ProcessorCount - torch.get_num_threads()) + 0.2;

    private static string Load(double? cores) => cores is { } c ? (c > LoadThreshold ? $"**{N(c, "F2")}** ⚠" : N(c, "F2")) : "n/a";

    private static string Opt(double? value) => value is { } v ? N(v, "F2") : "n/a";

    public string Write(string path, double seconds)
    {
        var markdown = Render(seconds);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, markdown);
        return markdown;
    }

    private string Render(double seconds)
    {
        var s = _settings;
        var text = new StringBuilder();
        text.AppendLine($"# ML.DeepExtensions text benchmark: fortunes ({s.Mode})");
        text.AppendLine();
        text.AppendLine("| | |");
        text.AppendLine("|---|---|");
        text.AppendLine($"| Date (UTC) | {DateTime.UtcNow:yyyy-MM-dd HH:mm} |");
        text.AppendLine($"| Machine | {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture}) |");
        text.AppendLine($"| Runtime | {RuntimeInformation.FrameworkDescription}, TorchSharp {typeof(torch).Assembly.GetName().Version}, torch threads {torch.get_num_threads()} (set_num_threads({s.Threads}); one process, identical for both sides) |");
        text.AppendLine($"| Data | `data/fortunes/fortunes.tsv` (12 categories), shuffled with seed {TextSettings.Seed}, {Rows:N0} texts for the classifiers (at most `--rows`, the file has 3,759), the first {GptRows:N0} of them for GPT; learned word vocabulary (min frequency 2), MaxLength {TextSettings.MaxLength} tokens |");
        text.AppendLine($"| Training | 1 epoch, batch {TextSettings.BatchSize}, Adam lr {N(TextSettings.LearningRate, "G3")} constant, dropout 0.1, seed {TextSettings.Seed}; warm-up: 1 epoch per side, then median of {s.Repeats} runs (GPT: {s.GptRepeats}), ours and raw interleaved |");
        text.AppendLine($"| Machine load | 1-min load average {Opt(LoadAverageAtStart)} at start, {Opt(LoadMeter.LoadAverage())} at end; *Other load* = cores used by other processes during the measurement (/proc/stat); above {N(LoadThreshold, "F1")} (⚠) torch competed for its cores |");
        text.AppendLine($"| Command | `dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks -- {s.Arguments}` ({N(seconds, "F0")} s so far / in all) |");
        text.AppendLine();
        text.AppendLine("*Tokens* = real (non-padding) token ids of the texts, at most MaxLength per text (for GPT: the predicted positions, tokens + end of text). Tokens/s = those tokens / seconds of the epoch or pass.");
        text.AppendLine();

        text.AppendLine("## Training: tokens per second, ours against a hand-written TorchSharp loop");
        text.AppendLine();
        text.AppendLine("*Ours* = `mlContext.MulticlassClassification.Trainers.NeuralTextClassifier(options).Fit(view)` (tokenizer fit + network training), the epoch time from `model.LastTransformer.History`; " +
                        "for GPT `TrainLanguageModel(options).Fit(tokenized view)`, epoch time from `History`. " +
                        "*Raw* = the same network (`NeuralNetworkTransformer.Network`; for GPT `Network.Create().Transformer(causal).Dense(vocabulary)` as the estimator builds it) built by the engine's internal `NetworkModel.Build` from the same seed, " +
                        "then a bare loop on pre-built token-id tensors with the engine's per-epoch `System.Random` shuffle: `index_select` batches, dispose scope per step, `cross_entropy`, Adam, `loss.item()`. " +
                        "*Ratio* = our time per token / raw time per token (target ≤ 1.10). The loss pair checks that both sides trained the same thing.");
        text.AppendLine();
        text.AppendLine("| Model | Params | Tokens/epoch | Ours tokens/s | Raw tokens/s | Ratio ours/raw | ≤ 1.10? | Epoch loss ours / raw | Run spread ours / raw | Other load |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|:---:|---|---|---:|");
        foreach (var c in Classifiers)
        {
            text.AppendLine($"| {c.Name} classifier | {c.Parameters:N0} | {c.Tokens:N0} | {N(c.OursTokensPerSecond, "N0")} | {N(c.RawTokensPerSecond, "N0")} | **{N(c.Ratio, "F2")}** | {(c.Ratio <= 1.10 ? "yes" : "no")} | " +
                            $"{N(c.OursLoss, "F4")} / {N(c.RawLoss, "F4")} | {c.Spread} | {Load(c.TrainingLoad)} |");
        }
        if (Gpt is { } g)
        {
            text.AppendLine($"| GPT language model | {g.Parameters:N0} | {g.Tokens:N0} | {N(g.OursTokensPerSecond, "N0")} | {N(g.RawTokensPerSecond, "N0")} | **{N(g.Ratio, "F2")}** | {(g.Ratio <= 1.10 ? "yes" : "no")} | " +
                            $"{N(g.OursLoss, "F4")} / {N(g.RawLoss, "F4")} | {g.Spread} | {Load(g.Load)} |");
        }
        if (Gpt is { } gm)
        {
            text.AppendLine();
            text.AppendLine($"GPT check: the engine accumulates training metrics every step (`NextTokenObjective.Totals`: a second, summed cross-entropy and an argmax over the vocabulary logits, read back with `ToDouble`/`ToInt64`). " +
                            $"The raw loop doing the same per step: **{N(gm.RawWithMetricsTokensPerSecond, "N0")} tokens/s**, i.e. ours / (raw + metrics) = **{N(gm.RawWithMetricsTokensPerSecond / gm.OursTokensPerSecond, "F2")}** (raw + metrics costs {N(gm.RawTokensPerSecond / gm.RawWithMetricsTokensPerSecond, "F2")}× raw).");
        }
        text.AppendLine();

        text.AppendLine("## Scoring: tokens per second");
        text.AppendLine();
        text.AppendLine($"Same fitted chain (tokenizer + network). *Transform* = `model.Transform(view)` over the {Rows:N0} texts read through a cursor on Score (one forward pass per 256 texts); " +
                        $"*PredictionEngine* = `engine.Predict(row, ref output)` one text at a time over the first {s.EngineRows:N0}; *Raw forward* = no-grad batched forward passes (256 rows) of the same network on the pre-built id tensor (no tokenization). " +
                        "*max abs Δ* = Transform vs PredictionEngine scores on the first 100 texts.");
        text.AppendLine();
        text.AppendLine("| Model | Transform tokens/s | PredictionEngine tokens/s | Transform / PredictionEngine | Raw forward tokens/s | Transform / raw | max abs Δ score | Other load |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var c in Classifiers)
        {
            text.AppendLine($"| {c.Name} classifier | {N(c.TransformTokensPerSecond, "N0")} | {N(c.EngineTokensPerSecond, "N0")} | **{N(c.TransformTokensPerSecond / c.EngineTokensPerSecond, "F1")}×** | " +
                            $"{N(c.RawForwardTokensPerSecond, "N0")} | {N(c.TransformTokensPerSecond / c.RawForwardTokensPerSecond, "F2")} | {N(c.MaxAbsDifference, "G2")} | {Load(c.ScoringLoad)} |");
        }
        if (Gpt is { } gs)
            text.AppendLine($"| GPT language model: `EvaluateLanguageModel` (batched teacher-forced forward, perplexity {N(gs.Perplexity, "F1")} after 1 warm-up epoch) | {N(gs.EvaluateTokensPerSecond, "N0")} | not measured | | | | | |");
        text.AppendLine();

        text.AppendLine("## Padding vs bucketing");
        text.AppendLine();
        text.AppendLine("What the trainers do: **per-batch trimming** (dynamic padding) and, for the classifiers, **length bucketing** (`LengthBucketing`, default on; " +
                        "the side-by-side above turns it off so both sides see the same shuffled batches). The classifiers' encoders cut each batch to its longest text " +
                        "(`TrimPaddingModule` in the Transformer encoder; the recurrent encoder narrows to the longest row and packs only when a row is padded); " +
                        "GPT's `SequenceBatchSource` makes each batch as wide as its longest text + 1 and buckets too (`LanguageModelOptions.LengthBucketing`). " +
                        "Below, the raw loop on the same network and the same texts: *shuffled* = the trainers' batches (trimmed per batch), *bucketed* = texts sorted by length, cut into batches, batch order shuffled, " +
                        "*padded to MaxLength* = every batch as wide as MaxLength (measurable for GPT only: the classifier encoders always trim, so padding to MaxLength cannot be timed on the same network; its positions are given). " +
                        "*Positions* = rows × batch width summed over the epoch (real tokens / positions = padding efficiency).");
        text.AppendLine();
        text.AppendLine("| Model | Real tokens | Positions padded to MaxLength | Positions shuffled + trimmed | Positions bucketed | Raw tokens/s padded to MaxLength | Raw tokens/s shuffled + trimmed | Raw tokens/s bucketed | Bucketed / shuffled speed-up (raw) | Ours tokens/s, LengthBucketing off → on |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var c in Classifiers)
        {
            text.AppendLine($"| {c.Name} classifier | {c.Tokens:N0} | {c.PaddedPositions:N0} ({N(100.0 * c.Tokens / c.PaddedPositions, "F0")} % real) | {c.ShuffledPositions:N0} ({N(100.0 * c.Tokens / c.ShuffledPositions, "F0")} % real) | " +
                            $"{c.BucketedPositions:N0} ({N(100.0 * c.Tokens / c.BucketedPositions, "F0")} % real) | not measurable (always trimmed) | {N(c.RawTokensPerSecond, "N0")} | {N(c.BucketedTokensPerSecond, "N0")} | **{N(c.BucketedTokensPerSecond / c.RawTokensPerSecond, "F2")}×** | " +
                            $"{N(c.OursTokensPerSecond, "N0")} → {N(c.OursBucketedTokensPerSecond, "N0")} (**{N(c.OursBucketedTokensPerSecond / c.OursTokensPerSecond, "F2")}×**) |");
        }
        if (Gpt is { } gp)
        {
            text.AppendLine($"| GPT language model | {gp.Tokens:N0} | {gp.PaddedPositions:N0} ({N(100.0 * gp.Tokens / gp.PaddedPositions, "F0")} % real) | {gp.ShuffledPositions:N0} ({N(100.0 * gp.Tokens / gp.ShuffledPositions, "F0")} % real) | " +
                            $"{gp.BucketedPositions:N0} ({N(100.0 * gp.Tokens / gp.BucketedPositions, "F0")} % real) | {N(gp.PaddedTokensPerSecond, "N0")} | {N(gp.RawTokensPerSecond, "N0")} | {N(gp.BucketedTokensPerSecond, "N0")} | **{N(gp.BucketedTokensPerSecond / gp.RawTokensPerSecond, "F2")}×** | " +
                            $"{N(gp.OursTokensPerSecond, "N0")} → {N(gp.OursBucketedTokensPerSecond, "N0")} (**{N(gp.OursBucketedTokensPerSecond / gp.OursTokensPerSecond, "F2")}×**) |");
        }
        text.AppendLine();
        foreach (var c in Classifiers)
            text.AppendLine($"- {c.Name}: `NeuralTextMulticlassOptions {{ Network = {c.Code}, EmbeddingDimensions = {TextSettings.Dimensions}, MaxLength = {TextSettings.MaxLength} }}`");
        if (Gpt is { } gc)
            text.AppendLine($"- GPT: `{gc.Code}` after `TokenizeToIdsWithWordVocabulary(\"Tokens\", \"Text\", maxLength: {TextSettings.MaxLength})`");
        text.AppendLine();
        return text.ToString();
    }
}

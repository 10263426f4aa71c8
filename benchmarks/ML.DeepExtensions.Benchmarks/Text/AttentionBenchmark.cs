using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Text;

/// <summary>
/// Fused attention (libtorch's <c>scaled_dot_product_attention</c>) against the step-by-step softmax(QKᵀ/√d + mask)·V the
/// layers used before, on the same modules and inputs in one process (issue 15): scoring passes and training steps
/// (dropout 0, the only training case that takes the fused path) of our Transformer and a BERT-style encoder, with
/// padded rows. <c>--attention</c> (or <c>--attention-quick</c>).
/// </summary>
internal static class AttentionBenchmark
{
    public static bool Wants(string[] args) => args.Contains("--attention") || args.Contains("--attention-quick");

    private sealed record Workload(string Name, Network Network, int Vocabulary, int Length, int Batch, bool Training);

    public static int Run(string[] args)
    {
        var quick = args.Contains("--attention-quick");
        var threads = 1;
        var t = Array.IndexOf(args, "--threads");
        if (t >= 0 && t + 1 < args.Length && int.TryParse(args[t + 1], out var n) && n > 0)
            threads = n;
        var rounds = quick ? 2 : 5;
        var iterations = quick ? 3 : 10;
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(threads);
        var total = Stopwatch.StartNew();
        const int vocabulary = 5_000, length = 128, batch = 32;
        var workloads = new[]
        {
            new Workload("Transformer 2×128 (4 heads), scoring", Network.Create().Transformer(vocabulary, 128, length, 0, layers: 2, heads: 4, dropout: 0, pooling: SequencePooling.Mean).Dense(12), vocabulary, length, batch, false),
            new Workload("Transformer 2×128 (4 heads), training step, dropout 0", Network.Create().Transformer(vocabulary, 128, length, 0, layers: 2, heads: 4, dropout: 0, pooling: SequencePooling.Mean).Dense(12), vocabulary, length, batch, true),
            new Workload("GPT 2×128 causal, scoring", Network.Create().Transformer(vocabulary, 128, length, 0, layers: 2, heads: 4, dropout: 0, causal: true).Dense(vocabulary), vocabulary, length, batch, false),
            new Workload("BERT-style 4×256 (4 heads), scoring", Network.Create().Add(new BertEncoderLayer(vocabulary, 256, layers: 4, heads: 4, maxPositions: length, pooling: SequencePooling.Mean)).Dense(2), vocabulary, length, batch, false),
        };
        var rows = new List<string>();
        foreach (var w in workloads)
        {
            var (model, module) = ML.DeepExtensions.Benchmarks.Vision.VisionRawTrainer.Build(w.Network, [w.Length], seed: 1);
            using var owner = model;
            if (w.Training)
                module.train();
            else
                module.eval();
            // Random ids, rows right-padded to random lengths between 16 and 128 (id 0 = padding).
            var random = new Random(7);
            var values = new float[w.Batch * w.Length];
            for (var r = 0; r < w.Batch; r++)
            {
                var real = random.Next(16, w.Length + 1);
                for (var i = 0; i < real; i++)
                    values[r * w.Length + i] = random.Next(1, w.Vocabulary);
            }
            using var ids = torch.tensor(values, [w.Batch, w.Length]);
            using var targets = torch.zeros(w.Batch, dtype: ScalarType.Int64);
            double difference;
            using (torch.no_grad())
            using (var scope = torch.NewDisposeScope())
            {
                SelfAttentionModule.Fused = false;
                var stepByStep = module.forward(ids);
                SelfAttentionModule.Fused = true;
                difference = module.forward(ids).sub(stepByStep).abs().max().item<float>();
            }
            var times = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
            for (var round = 0; round < rounds + 1; round++)
            {
                foreach (var fused in new[] { false, true })
                {
                    SelfAttentionModule.Fused = fused;
                    var clock = Stopwatch.StartNew();
                    for (var i = 0; i < iterations; i++)
                    {
                        using var scope = torch.NewDisposeScope();
                        if (w.Training)
                        {
                            module.zero_grad();
                            var output = module.forward(ids);
                            var loss = output.reshape(w.Batch, -1).narrow(1, 0, 2).sum();
                            loss.backward();
                        }
                        else
                        {
                            using var noGrad = torch.no_grad();
                            module.forward(ids);
                        }
                    }
                    if (round > 0) // round 0 warms both paths up
                        times[fused].Add(clock.Elapsed.TotalMilliseconds / iterations);
                }
            }
            SelfAttentionModule.Fused = true;
            var (fusedMs, stepMs) = (Bench.Median(times[true]), Bench.Median(times[false]));
            Log($"{w.Name}: fused {fusedMs:F1} ms, step by step {stepMs:F1} ms, max |Δ| {difference:G2}");
            rows.Add($"| {w.Name} | {stepMs:F1} | {fusedMs:F1} | **{(stepMs / fusedMs).ToString("F2", CultureInfo.InvariantCulture)}×** | {difference:G2} |");
        }
        var text = new StringBuilder();
        text.AppendLine("# ML.DeepExtensions attention benchmark: fused vs step-by-step");
        text.AppendLine();
        text.AppendLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, torch threads {threads}, " +
                        $"batch {batch} × {length} token ids (rows padded to random lengths 16–128), median of {rounds} alternating rounds of {iterations} passes after a warm-up round. " +
                        $"Command: `dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks -- {string.Join(' ', args)}` ({total.Elapsed.TotalSeconds:F0} s).");
        text.AppendLine();
        text.AppendLine("| Workload | Step by step ms/batch | Fused ms/batch | Speed-up | max abs Δ output |");
        text.AppendLine("|---|---:|---:|---:|---:|");
        rows.ForEach(r => text.AppendLine(r));
        var markdown = text.ToString();
        Console.WriteLine(markdown);
        var outPath = Path.Combine(DigitsData.RepoRoot(), "benchmarks", "results", quick ? "attention-quick.md" : "attention.md");
        File.WriteAllText(outPath, markdown);
        return 0;
    }

    private static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
}

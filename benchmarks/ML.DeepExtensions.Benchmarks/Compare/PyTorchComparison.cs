using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ML.DeepExtensions.Benchmarks.Compare;

/// <summary>
/// <c>--vs-pytorch</c> / <c>--vs-pytorch-quick</c> (issue 15): five workloads measured on three sides in one run, per
/// torch thread count: PyTorch 1.13 from Debian (<c>/usr/bin/python3 benchmarks/pytorch/workloads.py</c>, one process per
/// measurement), a raw TorchSharp loop on pre-built tensors, and our public API's <c>Fit</c>. Every side: synthetic random
/// inputs, Adam lr 1e-3, one warm-up epoch of N steps then one timed epoch of N steps from fresh weights; rounds alternate
/// the sides; medians are reported.
/// </summary>
internal static class PyTorchComparison
{
    private const string Python = PythonSide.Python;

    /// <summary><c>--pytorch-blas DIR</c>: a directory holding another <c>libblas.so.3</c> (e.g. OpenBLAS extracted from Debian's
    /// libopenblas0-pthread), put first on the PyTorch process's LD_LIBRARY_PATH; null = the system's libblas.so.3.</summary>
    private static string? _blasDirectory;

    private const int Seed = 1;
    private const double LearningRate = 1e-3;

    /// <summary>Our side's <see cref="TrainerOptions.Precision"/>: <c>--mixed-bf16</c> trains it with bfloat16 products (raw and PyTorch stay float32).</summary>
    private static TrainingPrecision _precision = TrainingPrecision.Float32;

    public static bool Wants(string[] args) => args.Contains("--vs-pytorch") || args.Contains("--vs-pytorch-quick");

    private sealed record Side(double Train, double Score);

    private sealed record Row(Workload Workload, int Steps, Side PyTorch, Side Raw, Side Ours, double? OtherLoad, string Spread, string Losses, string Blas);

    public static int Run(string[] args)
    {
        var quick = args.Contains("--vs-pytorch-quick");
        var threads = new List<int> { 1, 2 };
        int? steps = null;
        var rounds = 3;
        string[]? only = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--vs-pytorch" or "--vs-pytorch-quick":
                    break;
                case "--threads" when i + 1 < args.Length:
                    threads = args[++i].Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToList();
                    break;
                case "--steps" when i + 1 < args.Length:
                    steps = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--rounds" when i + 1 < args.Length:
                    rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--pytorch-blas" when i + 1 < args.Length:
                    _blasDirectory = Path.GetFullPath(args[++i]);
                    break;
                case "--workloads" when i + 1 < args.Length:
                    only = args[++i].Split(',');
                    break;
                case "--mixed-bf16":
                    _precision = TrainingPrecision.MixedBFloat16;
                    break;
                default:
                    Console.Error.WriteLine($"--vs-pytorch: unknown argument '{args[i]}'. Options: --threads 1,2 --steps N --rounds N --pytorch-blas DIR --mixed-bf16 --workloads {string.Join(',', Workload.All.Select(w => w.Key))}");
                    return 2;
            }
        }
        var root = DigitsData.RepoRoot();
        var script = Path.Combine(root, "benchmarks", "pytorch", "workloads.py");
        if (!PyTorchAvailable(out var version, out var problem))
        {
            Console.Error.WriteLine($"--vs-pytorch needs PyTorch for {Python} (Debian's python3-torch): {problem}");
            Console.Error.WriteLine("Install it with: bash eng/install-reference-tools.sh");
            return 3;
        }
        var workloads = Workload.All.Where(w => only is null || only.Contains(w.Key)).ToArray();
        var loadAtStart = LoadMeter.LoadAverage();
        var total = Stopwatch.StartNew();
        TorchRuntime.EnsureInitialized();
        var results = new Dictionary<int, List<Row>>();
        foreach (var t in threads)
        {
            torch.set_num_threads(t);
            results[t] = [];
            foreach (var workload in workloads)
                results[t].Add(Measure(workload, steps ?? (quick ? workload.QuickSteps : workload.FullSteps), t, rounds, script));
        }
        total.Stop();

        var markdown = Render(results, quick, rounds, version, args, loadAtStart, total.Elapsed.TotalSeconds);
        Console.WriteLine(markdown);
        var outPath = Path.Combine(root, "benchmarks", "results", quick ? "vs-pytorch-quick.md" : "vs-pytorch.md");
        Directory.CreateDirectory(Path.GetDirectoryName(outPath)!);
        File.WriteAllText(outPath, markdown);
        Log($"Wrote {outPath} ({total.Elapsed.TotalSeconds:F0} s in all).");
        return 0;
    }

    private static Row Measure(Workload workload, int steps, int threads, int rounds, string script)
    {
        var rows = workload.BatchSize * steps;
        var (features, labels) = workload.Synthetic(rows, Seed);
        var mlContext = new MLContext(seed: Seed);
        var view = View(mlContext, workload, features, labels);
        var shape = new long[] { rows }.Concat(workload.InputShape.Select(d => (long)d)).ToArray();
        using var x = torch.tensor(features, shape);
        using var y = workload.Regression ? torch.tensor(labels, new long[] { rows, 1 }) : torch.tensor(labels.Select(l => (long)l).ToArray(), new long[] { rows });
        var meter = LoadMeter.Start();
        var wall = Stopwatch.StartNew();
        var childCpuAtStart = ChildrenCpuSeconds();
        var ours = new List<Side>();
        var rawTrain = new List<double>();
        var rawScore = new List<double>();
        var python = new List<Side>();
        double oursLoss = double.NaN, rawLoss = double.NaN, pythonLoss = double.NaN;
        var blas = "?";
        // The network our trainer trained, kept from the first round: the raw side is rebuilt from it with the same seed.
        (Network Network, int[] InputShape, int ScoringBatch)? trained = null;
        for (var round = 0; round < rounds; round++)
        {
            void OursSide()
            {
                // Ours: Fit with 2 epochs of N steps, the second one timed (model.History); scoring = model.Transform read through a cursor.
                Collect();
                using var model = FitOurs(mlContext, workload, view);
                trained ??= (model.Network, model.InputShape.ToArray(), model.ScoringBatchSize);
                var epoch = model.History[^1];
                oursLoss = epoch.TrainingLoss;
                var (oursScored, rawScored) = ScoringPairs(model, view, x, rows);
                ours.Add(new Side(rows / epoch.Duration.TotalSeconds, oursScored));
                rawScore.Add(rawScored);
            }

            void RawSide()
            {
                // Raw: the same network, built from the same seed; warm-up epoch, timed epoch, then no-grad scoring.
                Collect();
                var (rawModel, module) = VisionRawTrainer.Build(trained!.Value.Network, trained.Value.InputShape, Seed);
                using (rawModel)
                using (var optimizer = optim.Adam(module.parameters(), LearningRate, 0.9, 0.999, 1e-8))
                {
                    RawEpoch(module, optimizer, workload, x, y, steps);
                    var clock = Stopwatch.StartNew();
                    rawLoss = RawEpoch(module, optimizer, workload, x, y, steps);
                    clock.Stop();
                    rawTrain.Add(rows / clock.Elapsed.TotalSeconds); // scoring: measured beside ours (ScoringPairs)
                }
            }

            void PyTorchSide()
            {
                // PyTorch: its own process, same sizes and steps.
                var (side, loss, library) = RunPython(script, workload, threads, steps, trained!.Value.ScoringBatch);
                python.Add(side);
                pythonLoss = loss;
                blas = library;
            }

            // The order alternates between rounds (ours → raw → PyTorch, then PyTorch → raw → ours), so that a drift of the
            // machine's speed during a round does not favour one side.
            if (round % 2 == 0)
            {
                OursSide();
                RawSide();
                PyTorchSide();
            }
            else
            {
                PyTorchSide();
                RawSide();
                OursSide();
            }
            Log($"{workload.Key}, {threads} thread(s), round {round + 1}/{rounds}: training samples/s PyTorch {python[^1].Train:F1}, raw {rawTrain[^1]:F1}, ours {ours[^1].Train:F1}; " +
                $"scoring PyTorch {python[^1].Score:F0}, raw {rawScore[^1]:F0}, ours {ours[^1].Score:F0}");
        }
        static string Range(IEnumerable<double> v) => $"{v.Min():F1}–{v.Max():F1}";
        return new Row(workload, steps,
            new Side(Bench.Median(python.Select(s => s.Train)), Bench.Median(python.Select(s => s.Score))),
            new Side(Bench.Median(rawTrain), Bench.Median(rawScore)),
            new Side(Bench.Median(ours.Select(s => s.Train)), Bench.Median(ours.Select(s => s.Score))),
            meter.OtherCores() is { } other ? Math.Max(0, other - (ChildrenCpuSeconds() - childCpuAtStart) / wall.Elapsed.TotalSeconds) : null,
            $"{Range(python.Select(s => s.Train))} / {Range(rawTrain)} / {Range(ours.Select(s => s.Train))}",
            $"{pythonLoss:F3} / {rawLoss:F3} / {oursLoss:F3}", blas);
    }

    private sealed class ClassRow
    {
        public float[] Features { get; set; } = [];

        public float Class { get; set; }
    }

    private sealed class RegressionRow
    {
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }

    private sealed class TextRow
    {
        public int[] Text { get; set; } = [];

        public float Class { get; set; }
    }

    private static IDataView View(MLContext mlContext, Workload workload, float[] features, float[] labels)
    {
        var size = workload.FeatureSize;
        var count = labels.Length;
        float[] Slice(int i) => features.AsSpan(i * size, size).ToArray();
        if (workload.TextClassifier is not null)
        {
            var textSchema = SchemaDefinition.Create(typeof(TextRow));
            textSchema[nameof(TextRow.Text)].ColumnType = new VectorDataViewType(NumberDataViewType.Int32, size);
            var texts = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(i => new TextRow { Text = Slice(i).Select(v => (int)v).ToArray(), Class = labels[i] }).ToArray(), textSchema);
            return mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TextRow.Class)).Fit(texts).Transform(texts);
        }
        if (workload.Regression)
        {
            var schema = SchemaDefinition.Create(typeof(RegressionRow));
            schema[nameof(RegressionRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
            return mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(i => new RegressionRow { Features = Slice(i), Label = labels[i] }).ToArray(), schema);
        }
        var classSchema = SchemaDefinition.Create(typeof(ClassRow));
        classSchema[nameof(ClassRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        var classes = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(i => new ClassRow { Features = Slice(i), Class = labels[i] }).ToArray(), classSchema);
        return mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ClassRow.Class)).Fit(classes).Transform(classes);
    }

    private static NeuralNetworkTransformer FitOurs(MLContext mlContext, Workload workload, IDataView view)
    {
        var inputShape = workload.InputShape.Length > 1 ? workload.InputShape : null;
        if (workload.TextClassifier is { } encoder)
        {
            var chain = mlContext.MulticlassClassification.Trainers.NeuralTextClassifier(new NeuralTextMulticlassOptions
            {
                TextColumnName = nameof(TextRow.Text), VocabularySize = Workload.Vocabulary, PaddingId = 0, MaxLength = Workload.Length,
                EmbeddingDimensions = 128, Dropout = 0, Network = encoder, Epochs = 2, BatchSize = workload.BatchSize, LearningRate = LearningRate, Precision = _precision,
            }).Fit(view);
            return chain.LastTransformer;
        }
        if (workload.Regression)
        {
            return mlContext.Regression.Trainers.NeuralNetwork(new NeuralNetworkRegressionOptions
            {
                Network = workload.Body, InputShape = inputShape, Epochs = 2, BatchSize = workload.BatchSize, LearningRate = LearningRate, Precision = _precision,
            }).Fit(view);
        }
        return mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions
        {
            Network = workload.Body, InputShape = inputShape, Epochs = 2, BatchSize = workload.BatchSize, LearningRate = LearningRate, Precision = _precision,
        }).Fit(view);
    }

    /// <summary>
    /// Scoring rows/s of <paramref name="model"/>'s <c>Transform</c> and of a raw no-grad forward loop over the same rows on a
    /// module built from the same network with the model's trained weights (written by <c>SaveWeights</c>, read by
    /// <c>Module.load</c>): one warm-up pass each, then three passes of each, alternating which goes first, medians. Measured side by side because this VM's speed drifts by ±40 % within a minute: a raw pass timed
    /// minutes later, after its own training, measured the drift (Transformer scoring "0.44–0.67×" on 2026-12-02 while
    /// passes a few seconds apart agreed within 10 %).
    /// </summary>
    private static (double Ours, double Raw) ScoringPairs(NeuralNetworkTransformer model, IDataView view, Tensor x, int rows)
    {
        const int pairs = 3;
        var weights = Path.Combine(Path.GetTempPath(), $"vs-pytorch-{Environment.ProcessId}.weights");
        model.SaveWeights(weights);
        var (rawModel, module) = VisionRawTrainer.Build(model.Network, model.InputShape.ToArray(), Seed);
        using (rawModel)
        {
            module.load(weights);
            File.Delete(weights);
            var batch = model.ScoringBatchSize;
            ScorePass(model, view); // warm-up, as the PyTorch side does one untimed forward pass first
            RawForward.Seconds(module, x.narrow(0, 0, Math.Min(rows, batch)), batch);
            var ours = new List<double>();
            var raw = new List<double>();
            for (var pair = 0; pair < pairs; pair++)
            {
                void Ours()
                {
                    var clock = Stopwatch.StartNew();
                    var scored = ScorePass(model, view);
                    ours.Add(scored / clock.Elapsed.TotalSeconds);
                }

                void Raw() => raw.Add(rows / RawForward.Seconds(module, x, batch));

                if (pair % 2 == 0) { Ours(); Raw(); }
                else { Raw(); Ours(); }
            }
            return (Bench.Median(ours), Bench.Median(raw));
        }
    }

    /// <summary>model.Transform(view) read through a cursor on the Score column; returns the rows read.</summary>
    private static long ScorePass(ITransformer model, IDataView view)
    {
        var scored = model.Transform(view);
        var column = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor([column]);
        long count = 0;
        if (column.Type is VectorDataViewType)
        {
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> score = default;
            while (cursor.MoveNext())
            {
                getter(ref score);
                count++;
            }
        }
        else
        {
            var getter = cursor.GetGetter<float>(column);
            float score = 0;
            while (cursor.MoveNext())
            {
                getter(ref score);
                count++;
            }
        }
        return count;
    }

    /// <summary>The bare loop: consecutive batches of pre-built tensors; per step a dispose scope, zero_grad, forward, loss, backward, Adam step, loss.item().</summary>
    private static double RawEpoch(nn.Module<Tensor, Tensor> module, optim.Optimizer optimizer, Workload workload, Tensor x, Tensor y, int steps)
    {
        module.train();
        double sum = 0;
        for (var s = 0; s < steps; s++)
        {
            using var scope = torch.NewDisposeScope();
            var xb = x.narrow(0, s * workload.BatchSize, workload.BatchSize);
            var yb = y.narrow(0, s * workload.BatchSize, workload.BatchSize);
            optimizer.zero_grad();
            var output = module.forward(xb);
            var loss = workload.Regression ? F.mse_loss(output, yb) : F.cross_entropy(output, yb);
            loss.backward();
            optimizer.step();
            sum += loss.item<float>();
        }
        return sum / steps;
    }

    private static bool PyTorchAvailable(out string version, out string problem)
    {
        version = "";
        problem = "";
        try
        {
            var (code, output, error) = Exec(["-c", "import torch; print(torch.__version__)"]);
            if (code != 0)
            {
                problem = $"`{Python} -c \"import torch\"` failed: {error.Trim().Split('\n').LastOrDefault()}";
                return false;
            }
            version = output.Trim();
            return true;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            problem = $"{Python} could not be started: {ex.Message}";
            return false;
        }
    }

    private static (Side Side, double Loss, string Blas) RunPython(string script, Workload workload, int threads, int steps, int scoringBatch)
    {
        var (code, output, error) = Exec([script, workload.PythonWorkload, threads.ToString(CultureInfo.InvariantCulture), steps.ToString(CultureInfo.InvariantCulture), scoringBatch.ToString(CultureInfo.InvariantCulture)], threads);
        if (code != 0)
            throw new InvalidOperationException($"{Python} {script} {workload.PythonWorkload} exited with {code}: {error}");
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.TrimStart().StartsWith('{'));
        using var json = JsonDocument.Parse(line);
        var r = json.RootElement;
        return (new Side(r.GetProperty("train").GetDouble(), r.GetProperty("score").GetDouble()), r.GetProperty("loss").GetDouble(), r.GetProperty("blas").GetString() ?? "?");
    }

    private static (int Code, string Output, string Error) Exec(string[] arguments, int threads = 1)
        => PythonSide.Exec(arguments, PythonSide.ThreadEnvironment(threads, _blasDirectory));

    private static string Render(Dictionary<int, List<Row>> results, bool quick, int rounds, string pythonTorch, string[] args, double? loadAtStart, double seconds)
    {
        static string N(double v, string f) => v.ToString(f, CultureInfo.InvariantCulture);
        static string Rate(double v) => v >= 100 ? N(v, "N0") : N(v, "F1");
        static string Load(double? c) => c is { } v ? (v > 0.2 ? $"**{N(v, "F2")}** ⚠" : N(v, "F2")) : "n/a";
        var text = new StringBuilder();
        text.AppendLine($"# ML.DeepExtensions vs raw TorchSharp vs PyTorch ({(quick ? "quick" : "full")})");
        text.AppendLine();
        text.AppendLine("| | |");
        text.AppendLine("|---|---|");
        text.AppendLine($"| Date (UTC) | {DateTime.UtcNow:yyyy-MM-dd HH:mm} |");
        text.AppendLine($"| Machine | {Environment.ProcessorCount} logical cores{CpuModel()}, {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture}) |");
        text.AppendLine($"| Sides | PyTorch {pythonTorch} (`{Python}`, Debian python3-torch, `benchmarks/pytorch/workloads.py`, one process per measurement, `torch.set_num_threads`); " +
                        $"raw TorchSharp {typeof(torch).Assembly.GetName().Version} loop; ours = `Fit` of the public API ({RuntimeInformation.FrameworkDescription}){(_precision == TrainingPrecision.Float32 ? "" : $", **`Precision = {_precision}`** (bfloat16 products in training steps, scoring float32; raw and PyTorch float32)")}; .NET sides in this process with `torch.set_num_threads` |");
        var blas = string.Join(", ", results.Values.SelectMany(r => r).Select(r => r.Blas).Distinct());
        var reference = blas.Contains("/blas/libblas", StringComparison.Ordinal)
            ? " — ⚠ this is Debian's **reference (netlib) BLAS**, not OpenBLAS: PyTorch's dense matmuls (Linear, LSTM, attention projections) run unoptimised; install `libopenblas0-pthread` (the libblas.so.3 alternative) or pass `--pytorch-blas DIR` before comparing"
            : "";
        text.AppendLine($"| PyTorch's BLAS | {blas} (libblas.so.3 as loaded by the Python process{(_blasDirectory is null ? "" : $", `--pytorch-blas` put {_blasDirectory} first on its LD_LIBRARY_PATH")}{(Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is { Length: > 0 } core ? $", OPENBLAS_CORETYPE={core}" : "")}; Debian's torch 1.13 uses whichever BLAS the alternative selects, libtorch bundles MKL){reference} |");
        text.AppendLine($"| Protocol | synthetic random inputs (uniform pixels / features, token ids in [1, 5000), 10 random classes or N(0,1) regression targets), the same sizes and number of steps N on every side; " +
                        $"Adam lr 1e-3; per measurement fresh weights, one warm-up epoch of N steps, then one timed epoch of N steps (training samples/s); scoring samples/s = no-grad forward over the same rows in batches of the trainer's ScoringBatchSize " +
                        $"(ours: `model.Transform` read through a cursor; raw: the same trained weights in a module of its own, timed in 3 passes alternating with ours', medians — the VM's speed drifts too much to compare passes minutes apart). Median of {rounds} round(s); each round runs ours, raw, PyTorch in turn, the next round PyTorch, raw, ours |");
        text.AppendLine($"| Machine load | 1-min load average {(loadAtStart is { } l0 ? N(l0, "F2") : "n/a")} at start, {(LoadMeter.LoadAverage() is { } l1 ? N(l1, "F2") : "n/a")} at end; *Other load* = average cores used by other processes during the workload (the PyTorch child processes' own CPU time excluded). More than ~0.2 on 2 cores: not trustworthy |");
        text.AppendLine($"| Command | `dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks -- {string.Join(' ', args)}` ({N(seconds, "F0")} s in all) |");
        text.AppendLine();
        text.AppendLine("Ratios: > 1 = ours faster. *ours/raw* and *ours/PyTorch* compare training samples/s, scoring in parentheses.");
        text.AppendLine();
        foreach (var (threads, rows) in results)
        {
            text.AppendLine($"## {threads} torch thread{(threads == 1 ? "" : "s")}");
            text.AppendLine();
            text.AppendLine("| Workload | N steps | PyTorch train (score) samples/s | Raw TorchSharp train (score) | Ours train (score) | ours/raw | ours/PyTorch | Spread train PyTorch / raw / ours | Last loss PyTorch / raw / ours | Other load |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---|---|---:|");
            foreach (var r in rows)
            {
                text.AppendLine($"| {r.Workload.Name} | {r.Steps} | {Rate(r.PyTorch.Train)} ({Rate(r.PyTorch.Score)}) | {Rate(r.Raw.Train)} ({Rate(r.Raw.Score)}) | {Rate(r.Ours.Train)} ({Rate(r.Ours.Score)}) | " +
                                $"**{N(r.Ours.Train / r.Raw.Train, "F2")}** ({N(r.Ours.Score / r.Raw.Score, "F2")}) | **{N(r.Ours.Train / r.PyTorch.Train, "F2")}** ({N(r.Ours.Score / r.PyTorch.Score, "F2")}) | {r.Spread} | {r.Losses} | {Load(r.OtherLoad)} |");
            }
            text.AppendLine();
        }
        text.AppendLine("## Layers per side");
        text.AppendLine();
        text.AppendLine("The raw TorchSharp side trains the very network our trainer trained (`NeuralNetworkTransformer.Network`, output layer included), built by the engine's `NetworkModel.Build` from the same seed: same modules, same initial weights. " +
                        "PyTorch's initial weights come from its own generator (same layer types and sizes, so the same default initialisation schemes, not the same values).");
        text.AppendLine();
        text.AppendLine("| Workload | Ours (DSL, also the raw side) | PyTorch |");
        text.AppendLine("|---|---|---|");
        foreach (var w in results.Values.First().Select(r => r.Workload))
            text.AppendLine($"| {w.Name} | {w.OursLayers} | {w.PyTorchLayers} |");
        text.AppendLine();
        return text.ToString();
    }

    /// <summary>CPU seconds of this process's waited-for children (the PyTorch processes): cutime + cstime of /proc/self/stat; 0 where unavailable.</summary>
    private static double ChildrenCpuSeconds()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state); cutime and cstime are fields 16 and 17, in clock ticks (USER_HZ = 100).
            return (long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static string CpuModel()
    {
        var line = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) : null;
        return line is null ? "" : " (" + line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim() + ")";
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
}

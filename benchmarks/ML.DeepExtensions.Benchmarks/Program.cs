// Side-by-side benchmark: our NeuralNetwork trainer / scoring paths versus a hand-written TorchSharp loop on the
// same network, same data, same seed, same threads, in one process. See README.md beside this file.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions;
using ML.DeepExtensions.Benchmarks;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Scoring;
using TorchSharp;
using static TorchSharp.torch;

Thread.CurrentThread.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Contains("--default-allocator"))
{
    // A/B of the allocator lever (issue 15): glibc's default malloc thresholds instead of TorchRuntime's (the default).
    TorchRuntime.TuneNativeAllocator = false;
    args = args.Where(a => a != "--default-allocator").ToArray();
}
if (args.Contains("--onednn-lstm") || args.Contains("--unrolled-lstm"))
{
    // A/B of the unrolled LSTM (issue 15). --onednn-lstm: nn.LSTM's own training pass everywhere (libtorch's oneDNN RNN
    // primitive on dense input, its packed kernel on padded text); --unrolled-lstm: UnrolledLstm everywhere. By default
    // dense input is unrolled only where oneDNN's LSTM measured slower (no AVX2, a ceiling below AVX2, the capped AMD
    // family), padded text always. Set for the whole process: the flow-local override is inherited by everything started
    // after it, and never disposed.
    InternalSwitches.UnrolledLstm(args.Contains("--unrolled-lstm"));
    args = args.Where(a => a is not "--onednn-lstm" and not "--unrolled-lstm").ToArray();
}
if (args.Contains("--autocast-every-layer"))
{
    // A/B of the mixed-precision rule (issue 15): with --mixed-bf16, every dense and convolution layer in bfloat16, as
    // libtorch's autocast alone casts them, instead of keeping the small ones and oneDNN's GEMM-fallback convolutions
    // float32 (MixedPrecisionRule). Set for the whole process, never disposed, as above.
    InternalSwitches.MixedPrecisionRule(keepFloat32: false);
    args = args.Where(a => a != "--autocast-every-layer").ToArray();
}
if (args.Contains("--no-mkldnn"))
{
    // Probe (issue 15): libtorch with oneDNN (mkldnn) turned off for the process, so convolutions take ATen's own
    // im2col + GEMM path and LSTMs the native time loop. at::globalContext().setUserEnabledMkldnn(false), called directly.
    TorchRuntime.EnsureInitialized();
    unsafe
    {
        var cpu = NativeLibrary.Load("libtorch_cpu.so");
        var context = ((delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(cpu, "_ZN2at13globalContextEv"))();
        ((delegate* unmanaged<IntPtr, byte, void>)NativeLibrary.GetExport(cpu, "_ZN2at7Context20setUserEnabledMkldnnEb"))(context, 0);
        Console.WriteLine($"mkldnn: user-enabled = {((delegate* unmanaged<IntPtr, byte>)NativeLibrary.GetExport(cpu, "_ZNK2at7Context17userEnabledMkldnnEv"))(context)}");
    }
    args = args.Where(a => a != "--no-mkldnn").ToArray();
}
if (ML.DeepExtensions.Benchmarks.Vision.VisionSettings.Wants(args))
    return ML.DeepExtensions.Benchmarks.Vision.VisionBenchmark.Run(args); // Fashion-MNIST image benchmark: see Vision/ and README.md
if (ML.DeepExtensions.Benchmarks.Onnx.OnnxBenchmark.Wants(args))
    return ML.DeepExtensions.Benchmarks.Onnx.OnnxBenchmark.Run(args); // ONNX export: ONNX Runtime vs libtorch scoring, see Onnx/ and docs/onnx.md
if (ML.DeepExtensions.Benchmarks.Text.BertBenchmark.Wants(args))
    return ML.DeepExtensions.Benchmarks.Text.BertBenchmark.Run(args); // pretrained BERT: fine-tuning vs a raw loop, embeddings vs ONNX Runtime (Text/BertBenchmark.cs)
if (ML.DeepExtensions.Benchmarks.Detection.DetectionRawLoop.Wants(args))
    return ML.DeepExtensions.Benchmarks.Detection.DetectionRawLoop.Run(args); // single-stage detector training: our Fit vs a bare TorchSharp loop (Detection/DetectionRawLoop.cs)
if (ML.DeepExtensions.Benchmarks.Detection.DetectionBenchmark.Wants(args))
    return ML.DeepExtensions.Benchmarks.Detection.DetectionBenchmark.Run(args); // NMS vs TorchVision.NET, detector images/s and mAP: see Detection/ and docs/detection.md
if (ML.DeepExtensions.Benchmarks.Text.AttentionBenchmark.Wants(args))
    return ML.DeepExtensions.Benchmarks.Text.AttentionBenchmark.Run(args); // fused vs step-by-step attention (Text/AttentionBenchmark.cs)
if (ML.DeepExtensions.Benchmarks.Text.GenerationBenchmark.Wants(args))
    return ML.DeepExtensions.Benchmarks.Text.GenerationBenchmark.Run(args); // GPT generation with and without the key/value cache (Text/GenerationBenchmark.cs)
if (ML.DeepExtensions.Benchmarks.Text.TextSettings.Wants(args))
    return ML.DeepExtensions.Benchmarks.Text.TextBenchmark.Run(args); // fortunes text benchmark: see Text/ and README.md
if (ML.DeepExtensions.Benchmarks.Speech.FeatureSpeed.Wants(args))
    return ML.DeepExtensions.Benchmarks.Speech.FeatureSpeed.Run(args); // log-mel extraction: ours vs NWaves vs torchaudio (Speech/FeatureSpeed.cs)
if (ML.DeepExtensions.Benchmarks.Speech.SpeechRawLoop.Wants(args))
    return ML.DeepExtensions.Benchmarks.Speech.SpeechRawLoop.Run(args); // DeepSpeech2 training: our Fit vs a bare TorchSharp loop (Speech/SpeechRawLoop.cs)
if (ML.DeepExtensions.Benchmarks.Speech.KeywordBenchmark.Wants(args))
    return ML.DeepExtensions.Benchmarks.Speech.KeywordBenchmark.Run(args); // espeak-ng keyword spotting: see Speech/KeywordBenchmark.cs and docs/speech.md
if (ML.DeepExtensions.Benchmarks.Speech.SpeechBenchmark.Wants(args))
    return ML.DeepExtensions.Benchmarks.Speech.SpeechBenchmark.Run(args); // espeak-ng speech recognition: see Speech/ and docs/speech.md
if (ML.DeepExtensions.Benchmarks.Text.PaddedLstmProbe.Wants(args))
    return ML.DeepExtensions.Benchmarks.Text.PaddedLstmProbe.Run(args); // padded LSTM text batches: unrolled vs packed kernel (Text/PaddedLstmProbe.cs)
if (ML.DeepExtensions.Benchmarks.Compare.GemmProbe.Wants(args))
    return ML.DeepExtensions.Benchmarks.Compare.GemmProbe.Run(args); // matmul GFLOP/s: libtorch vs PyTorch on the workloads' shapes (Compare/GemmProbe.cs)
if (ML.DeepExtensions.Benchmarks.Compare.PyTorchComparison.Wants(args))
    return ML.DeepExtensions.Benchmarks.Compare.PyTorchComparison.Run(args); // five workloads: PyTorch 1.13 vs raw TorchSharp vs our Fit (Compare/, benchmarks/pytorch/workloads.py)
var settings = BenchSettings.Parse(args);
if (settings is null)
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks [-- --quick | --vision | --vision-quick | --text | --text-quick | --generation | --generation-quick | --attention | --attention-quick | --onnx | --onnx-quick | --bert | --bert-quick | --detection | --detection-quick [--detection-train N] [--detection-test N] [--detection-epochs N] [--detection-width W] [--detection-architectures A,B] [--detection-pyramid] [--detection-mosaic P] [--detection-full-fashion] [--detection-digits] [--detection-no-nms] | --detection-raw-loop [--detection-raw-epochs N] [--detection-raw-rounds N] [--detection-training-map] | --speech [--speech-epochs N] [--speech-encoders DeepSpeech2,QuartzNet,Conformer] [--speech-clips N] [--speech-test-clips N] [--speech-warmup N] | --keywords [--keywords-clips N] [--keywords-epochs N] [--keywords-test-clips N] [--keywords-validation PERCENT] | --audio-features [--audio-features-clips N] | --speech-raw-loop [--speech-raw-epochs N] | --padded-lstm [--rounds N] | --vs-pytorch | --vs-pytorch-quick [--threads 1,2] [--steps N] [--rounds N] [--workloads lenet5,resnet,lstm,transformer,mlp,text-lstm,text-transformer] [--pytorch-blas DIR]] [--threads N] [--default-allocator] [--onednn-lstm | --unrolled-lstm] [--autocast-every-layer] [--no-mkldnn] [--no-profile] [--profile-repeats N] [--out FILE]");
    return 2;
}

var total = Stopwatch.StartNew();
TorchRuntime.EnsureInitialized();
if (settings.Threads is { } threads)
    torch.set_num_threads(threads);

var root = DigitsData.RepoRoot();
var csv = Path.Combine(root, "data", "digits", "digits.csv");
var mlContext = new MLContext(seed: 1);
Log($"Loading {csv} × {settings.Copies} copies…");
var data = DigitsData.Load(mlContext, csv, settings.Copies);

var tensorClock = Stopwatch.StartNew();
using var x = torch.tensor(data.Features, new long[] { data.Rows, DigitsData.FeatureSize });
using var y = torch.tensor(data.Labels, new long[] { data.Rows });
tensorClock.Stop();

var report = new Report(settings, root, data, tensorClock.Elapsed.TotalSeconds);
foreach (var network in new[] { BenchNetwork.Mlp, BenchNetwork.Cnn })
{
    var training = Bench.Training(settings, network, data, x, y);
    report.Training.Add(training);
    report.Scoring.Add(Bench.Scoring(settings, network, data, training.Model));
    if (settings.Profile)
        report.Profiles.Add(Bench.Profile(settings, network, data, x, y));
    training.Model.Dispose();
}
total.Stop();
report.TotalSeconds = total.Elapsed.TotalSeconds;

var markdown = report.Render();
Console.WriteLine(markdown);
var outPath = settings.OutPath ?? Path.Combine(root, "benchmarks", "results", "latest.md");
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
File.WriteAllText(outPath, markdown);
Log($"Wrote {Path.GetFullPath(outPath)} ({total.Elapsed.TotalSeconds:F0} s in all).");
return 0;

static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

namespace ML.DeepExtensions.Benchmarks
{
    internal sealed record BenchSettings(bool Quick, int Copies, int Epochs, int Repeats, int ScoringRows, bool Profile, int? Threads, string? OutPath)
    {
        public int ProfileRepeats { get; init; } = Repeats;

        /// <summary>The command-line arguments, as given.</summary>
        public string Arguments { get; init; } = "";

        public const int BatchSize = 32;
        public const double LearningRate = 1e-3;
        public const int Seed = 1;

        public string Mode => Quick ? "quick" : "full";

        public static BenchSettings? Parse(string[] args)
        {
            var quick = false;
            var profile = true;
            int? threads = null;
            int? profileRepeats = null;
            string? outPath = null;
            for (var i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--quick":
                        quick = true;
                        break;
                    case "--no-profile":
                        profile = false;
                        break;
                    case "--threads" when i + 1 < args.Length && int.TryParse(args[i + 1], out var t) && t > 0:
                        threads = t;
                        i++;
                        break;
                    case "--profile-repeats" when i + 1 < args.Length && int.TryParse(args[i + 1], out var r) && r > 0:
                        profileRepeats = r;
                        i++;
                        break;
                    case "--out" when i + 1 < args.Length:
                        outPath = args[++i];
                        break;
                    default:
                        return null;
                }
            }
            var settings = quick
                ? new BenchSettings(true, Copies: 2, Epochs: 1, Repeats: 3, ScoringRows: 5_000, profile, threads, outPath)
                : new BenchSettings(false, Copies: 10, Epochs: 3, Repeats: 3, ScoringRows: 20_000, profile, threads, outPath) { ProfileRepeats = 7 };
            settings = settings with { Arguments = string.Join(" ", args) };
            return profileRepeats is { } n ? settings with { ProfileRepeats = n } : settings;
        }
    }

    internal sealed record TrainingResult(
        BenchNetwork Network,
        long Parameters,
        double OursSecondsPerEpoch,
        double OursFitWallSeconds,
        double OursOutsideEpochsSeconds,
        double RawSecondsPerEpoch,
        double RawSetupSeconds,
        double OursLastLoss,
        double RawLastLoss,
        double OursAccuracy,
        NeuralNetworkTransformer Model,
        double? OtherLoad,
        string Spread)
    {
        public double Ratio => OursSecondsPerEpoch / RawSecondsPerEpoch;
    }

    internal sealed record ScoringResult(BenchNetwork Network, int Rows, double TransformRowsPerSecond, double EngineRowsPerSecond, double RawRowsPerSecond, double RawSingleRowsPerSecond, double SourceReadRowsPerSecond, double MaxAbsDifference, double? OtherLoad);

    internal sealed record ProfileResult(BenchNetwork Network, IReadOnlyDictionary<LoopVariant, double> Variants, double Ours, double? BatchSourceAlone, string? ProbeError, double? OtherLoad);

    internal static class Bench
    {
        private static void Log(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

        public static double Median(IEnumerable<double> values)
        {
            var sorted = values.OrderBy(v => v).ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }

        private static void Collect()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }

        private static (NeuralNetworkTransformer Model, double Wall) FitOurs(BenchNetwork network, DigitsData data, int epochs)
        {
            var mlContext = new MLContext(seed: BenchSettings.Seed);
            var trainer = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions
            {
                Network = network.Body,
                Epochs = epochs,
                BatchSize = BenchSettings.BatchSize,
                LearningRate = BenchSettings.LearningRate,
            });
            var clock = Stopwatch.StartNew();
            var model = trainer.Fit(data.TrainingView);
            clock.Stop();
            return (model, clock.Elapsed.TotalSeconds);
        }

        public static TrainingResult Training(BenchSettings settings, BenchNetwork network, DigitsData data, Tensor x, Tensor y)
        {
            Log($"{network.Name}: warm-up (1 epoch each side)…");
            var meter = LoadMeter.Start();
            FitOurs(network, data, 1).Model.Dispose();
            using (var warm = new RawTrainer(network, data, x, y, BenchSettings.Seed, BenchSettings.LearningRate))
                warm.Epoch(0, BenchSettings.BatchSize, LoopVariant.Raw);

            var ours = new List<(double PerEpoch, double Wall, double Outside)>();
            var raw = new List<(double PerEpoch, double Setup)>();
            NeuralNetworkTransformer? last = null;
            double rawLoss = double.NaN;
            long parameters = 0;
            for (var rep = 0; rep < settings.Repeats; rep++)
            {
                Collect();
                last?.Dispose();
                var (model, wall) = FitOurs(network, data, settings.Epochs);
                last = model;
                var epochs = model.History.Sum(h => h.Duration.TotalSeconds);
                ours.Add((epochs / model.History.Count, wall, wall - epochs));
                Log($"{network.Name} run {rep + 1}/{settings.Repeats}: ours {epochs / model.History.Count:F3} s/epoch (Fit {wall:F2} s)");

                Collect();
                var setupClock = Stopwatch.StartNew();
                using var trainer = new RawTrainer(network, data, x, y, BenchSettings.Seed, BenchSettings.LearningRate);
                setupClock.Stop();
                parameters = trainer.Module.parameters().Sum(p => p.numel());
                var clock = Stopwatch.StartNew();
                for (var epoch = 0; epoch < settings.Epochs; epoch++)
                    rawLoss = trainer.Epoch(epoch, BenchSettings.BatchSize, LoopVariant.Raw);
                clock.Stop();
                raw.Add((clock.Elapsed.TotalSeconds / settings.Epochs, setupClock.Elapsed.TotalSeconds));
                Log($"{network.Name} run {rep + 1}/{settings.Repeats}: raw  {clock.Elapsed.TotalSeconds / settings.Epochs:F3} s/epoch");
            }
            var history = last!.History[^1];
            return new TrainingResult(network, parameters,
                Median(ours.Select(o => o.PerEpoch)), Median(ours.Select(o => o.Wall)), Median(ours.Select(o => o.Outside)),
                Median(raw.Select(r => r.PerEpoch)), Median(raw.Select(r => r.Setup)),
                history.TrainingLoss, rawLoss, history.Training.TryGetValue("Accuracy", out var a) ? a : double.NaN, last, meter.OtherCores(),
                $"{ours.Min(o => o.PerEpoch):F3}–{ours.Max(o => o.PerEpoch):F3} / {raw.Min(r => r.PerEpoch):F3}–{raw.Max(r => r.PerEpoch):F3}");
        }

        public static ScoringResult Scoring(BenchSettings settings, BenchNetwork network, DigitsData data, NeuralNetworkTransformer model)
        {
            var meter = LoadMeter.Start();
            var mlContext = new MLContext(seed: BenchSettings.Seed);
            var rows = data.ScoringRows(settings.ScoringRows);
            var view = mlContext.Data.LoadFromEnumerable(rows);
            var engine = mlContext.Model.CreatePredictionEngine<ScoreInput, ScoreOutput>(model);
            using var xs = torch.tensor(rows.SelectMany(r => r.Features).ToArray(), new long[] { rows.Length, DigitsData.FeatureSize });
            using var rawModule = new RawTrainer(network, data, xs, xs, BenchSettings.Seed, BenchSettings.LearningRate);

            // Warm-up on 1,024 rows, and check that both ML.NET paths give the same scores.
            Log($"{network.Name}: scoring warm-up…");
            var warmRows = rows.Take(1024).ToArray();
            var batched = TransformScores(model, mlContext.Data.LoadFromEnumerable(warmRows));
            var single = warmRows.Select(r => engine.Predict(r).Score.ToArray()).ToArray();
            var maxDiff = batched.Zip(single, (b, s) => b.Zip(s, (p, q) => Math.Abs(p - q)).Max()).Max();
            RawTrainer.ForwardRowsPerSecond(rawModule.Module, xs.narrow(0, 0, 1024), model.ScoringBatchSize, out _);
            RawTrainer.ForwardRowsPerSecond(rawModule.Module, xs.narrow(0, 0, 256), 1, out _);
            SourcePass(view);

            var transform = new List<double>();
            var predict = new List<double>();
            var rawRates = new List<double>();
            var rawSingle = new List<double>();
            var sourceRates = new List<double>();
            for (var rep = 0; rep < settings.Repeats; rep++)
            {
                Collect();
                var clock = Stopwatch.StartNew();
                var count = TransformPass(model, view, out _);
                clock.Stop();
                transform.Add(count / clock.Elapsed.TotalSeconds);

                Collect();
                var output = new ScoreOutput();
                clock.Restart();
                double checksum = 0;
                foreach (var row in rows)
                {
                    engine.Predict(row, ref output);
                    checksum += output.Score[0];
                }
                clock.Stop();
                predict.Add(rows.Length / clock.Elapsed.TotalSeconds);

                Collect();
                rawRates.Add(RawTrainer.ForwardRowsPerSecond(rawModule.Module, xs, model.ScoringBatchSize, out _));

                Collect();
                rawSingle.Add(RawTrainer.ForwardRowsPerSecond(rawModule.Module, xs, 1, out _));

                Collect();
                clock.Restart();
                var read = SourcePass(view);
                clock.Stop();
                sourceRates.Add(read / clock.Elapsed.TotalSeconds);
                Log($"{network.Name} scoring run {rep + 1}/{settings.Repeats}: Transform {transform[^1]:F0} rows/s, PredictionEngine {predict[^1]:F0} rows/s, raw {rawRates[^1]:F0} rows/s");
            }
            engine.Dispose();
            return new ScoringResult(network, rows.Length, Median(transform), Median(predict), Median(rawRates), Median(rawSingle), Median(sourceRates), maxDiff, meter.OtherCores());
        }

        private static long TransformPass(ITransformer model, IDataView view, out double checksum)
        {
            var scored = model.Transform(view);
            var column = scored.Schema["Score"];
            using var cursor = scored.GetRowCursor(new[] { column });
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> score = default;
            long count = 0;
            checksum = 0;
            while (cursor.MoveNext())
            {
                getter(ref score);
                checksum += score.GetValues()[0];
                count++;
            }
            return count;
        }

        /// <summary>A cursor pass reading only the Features column of the input: what ML.NET costs before any scoring.</summary>
        private static long SourcePass(IDataView view)
        {
            var column = view.Schema["Features"];
            using var cursor = view.GetRowCursor(new[] { column });
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> features = default;
            long count = 0;
            while (cursor.MoveNext())
            {
                getter(ref features);
                count++;
            }
            return count;
        }

        private static float[][] TransformScores(ITransformer model, IDataView view)
        {
            var scored = model.Transform(view);
            return scored.GetColumn<float[]>(scored.Schema["Score"]).ToArray();
        }

        public static ProfileResult Profile(BenchSettings settings, BenchNetwork network, DigitsData data, Tensor x, Tensor y)
        {
            var meter = LoadMeter.Start();
            // Round-robin: every repeat measures each variant and the engine once, so drift hits all columns alike.
            var variants = Enum.GetValues<LoopVariant>();
            var times = variants.ToDictionary(v => v, _ => new List<double>());
            var ours = new List<double>();
            for (var rep = 0; rep < settings.ProfileRepeats; rep++)
            {
                foreach (var variant in variants)
                {
                    Collect();
                    using var trainer = new RawTrainer(network, data, x, y, BenchSettings.Seed, BenchSettings.LearningRate);
                    var clock = Stopwatch.StartNew();
                    trainer.Epoch(0, BenchSettings.BatchSize, variant);
                    clock.Stop();
                    times[variant].Add(clock.Elapsed.TotalSeconds);
                }
                Collect();
                var (model, _) = FitOurs(network, data, 1);
                ours.Add(model.History[0].Duration.TotalSeconds);
                model.Dispose();
                Log($"{network.Name} profile run {rep + 1}/{settings.ProfileRepeats}: " +
                    string.Join(", ", variants.Select(v => $"{v} {times[v][^1]:F3}")) + $", ours {ours[^1]:F3} s/epoch");
            }
            string? error = null;
            var alone = new List<double>();
            for (var rep = 0; rep < settings.Repeats && error is null; rep++)
            {
                if (BatchSourceProbe.EpochSeconds(data, BenchSettings.BatchSize, BenchSettings.Seed, out error) is { } s)
                    alone.Add(s);
            }
            return new ProfileResult(network, times.ToDictionary(kv => kv.Key, kv => Median(kv.Value)), Median(ours), alone.Count > 0 ? Median(alone) : null, error, meter.OtherCores());
        }
    }

    internal sealed class Report
    {
        private readonly BenchSettings _settings;
        private readonly string _root;
        private readonly DigitsData _data;
        private readonly double _tensorSeconds;

        public Report(BenchSettings settings, string root, DigitsData data, double tensorSeconds)
        {
            _settings = settings;
            _root = root;
            _data = data;
            _tensorSeconds = tensorSeconds;
        }

        public List<TrainingResult> Training { get; } = new();

        public List<ScoringResult> Scoring { get; } = new();

        public List<ProfileResult> Profiles { get; } = new();

        public double TotalSeconds { get; set; }

        public double? LoadAverageAtStart { get; } = LoadMeter.LoadAverage();

        private static string Opt(double? value) => value is { } v ? N(v, "F2") : "n/a";

        private static string Load(double? cores) => cores is { } c ? (c > 0.2 ? $"**{N(c, "F2")}** ⚠" : N(c, "F2")) : "n/a";

        private static string N(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

        public string Render()
        {
            var s = _settings;
            var text = new StringBuilder();
            text.AppendLine($"# ML.DeepExtensions benchmark ({s.Mode})");
            text.AppendLine();
            text.AppendLine("| | |");
            text.AppendLine("|---|---|");
            text.AppendLine($"| Date (UTC) | {DateTime.UtcNow:yyyy-MM-dd HH:mm} |");
            text.AppendLine($"| Machine | {Environment.ProcessorCount} logical cores{CpuModel()}, {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture}) |");
            text.AppendLine($"| Runtime | {RuntimeInformation.FrameworkDescription}, ML.NET {Version(typeof(MLContext))}, TorchSharp {Version(typeof(torch))}, libtorch-cpu-linux-x64 {PackageVersion("libtorch-cpu-linux-x64")} |");
            text.AppendLine($"| torch threads | get_num_threads() = {torch.get_num_threads()}, get_num_interop_threads() = {torch.get_num_interop_threads()} ({(s.Threads is null ? "defaults" : $"set_num_threads({s.Threads})")}; one process, so identical for both sides) |");
            text.AppendLine($"| Data | data/digits/digits.csv: {_data.BaseRows:N0} rows × {_data.Copies} copies = {_data.Rows:N0} rows; Features = 64 pixels / 16 (Expression), Label = MapValueToKey ({_data.Classes} classes) |");
            text.AppendLine($"| Protocol | batch {BenchSettings.BatchSize}, Adam lr {N(BenchSettings.LearningRate, "G3")}, {s.Epochs} epoch(s) per run, reshuffled every epoch (same System.Random order both sides), same seed → same initial weights; 1 warm-up run per side, then median of {s.Repeats} runs, ours and raw interleaved |");
            text.AppendLine($"| Machine load | 1-min load average {Opt(LoadAverageAtStart)} at start, {Opt(LoadMeter.LoadAverage())} at end; *Other load* columns = average cores used by other processes during that measurement (from /proc/stat). On 2 cores, more than ~0.2 means torch's threads competed with another process and the row is not trustworthy |");
            text.AppendLine($"| Command | `dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks{(s.Arguments.Length > 0 ? " -- " + s.Arguments : "")}` ({N(TotalSeconds, "F0")} s in all) |");
            text.AppendLine();

            text.AppendLine("## Training: seconds per epoch");
            text.AppendLine();
            text.AppendLine("*Ours* = `mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(data)`, per-epoch time from `model.History` (the epochs only). " +
                            "*Raw* = hand-written TorchSharp loop on pre-built tensors (`index_select` batches of a per-epoch permutation, dispose scope per step, `loss.item()`). " +
                            "*Fit wall* is the whole `Fit` call; *outside epochs* = Fit wall − Σ epoch times (schema checks, the one-time in-memory read of the IDataView, building the network).");
            text.AppendLine();
            text.AppendLine("| Network | Params | Ours s/epoch | Raw s/epoch | Ratio ours/raw | ≤ 1.10? | Ours Fit wall s | Ours outside epochs s | Raw setup s (module + optimizer) | Last-epoch loss ours / raw | Run spread s/epoch ours / raw | Other load |");
            text.AppendLine("|---|---:|---:|---:|---:|:---:|---:|---:|---:|---|---|---:|");
            foreach (var t in Training)
            {
                text.AppendLine($"| {t.Network.Name} | {t.Parameters:N0} | {N(t.OursSecondsPerEpoch, "F3")} | {N(t.RawSecondsPerEpoch, "F3")} | **{N(t.Ratio, "F2")}** | {(t.Ratio <= 1.10 ? "yes" : "no")} | " +
                                $"{N(t.OursFitWallSeconds, "F2")} ({s.Epochs} ep.) | {N(t.OursOutsideEpochsSeconds, "F3")} | {N(t.RawSetupSeconds, "F3")} | {N(t.OursLastLoss, "F4")} / {N(t.RawLastLoss, "F4")} | {t.Spread} | {Load(t.OtherLoad)} |");
            }
            text.AppendLine();
            text.AppendLine($"Data load, measured separately: one ML.NET cursor pass over Features + Label of the {_data.Rows:N0}-row IDataView into arrays took **{N(_data.ReadSeconds, "F3")} s** " +
                            $"(the trainer's one-time in-memory read is the same kind of pass and is inside *outside epochs*); building the raw side's X/Y tensors from those arrays took {N(_tensorSeconds, "F4")} s.");
            text.AppendLine();
            foreach (var t in Training)
                text.AppendLine($"- {t.Network.Name}: {t.Network.Description}");
            text.AppendLine();

            text.AppendLine("## Scoring: rows per second");
            text.AppendLine();
            text.AppendLine($"Same fitted model (last timed run above), same {Scoring.FirstOrDefault()?.Rows ?? 0:N0} in-memory rows. *Transform* = `model.Transform(view)` read through a cursor on the Score column " +
                            $"(one forward pass per {Training.FirstOrDefault()?.Model.ScoringBatchSize ?? 0} rows). *PredictionEngine* = `engine.Predict(row, ref output)` row by row. " +
                            "*Raw forward* (reference) = no-grad forward passes on a pre-built tensor of the same rows, outputs copied to managed arrays, in batches of the same size or one row per pass. " +
                            "*Input cursor read alone* = a cursor pass reading only the Features column of the same input view (ML.NET's share of the Transform path). *max abs Δ score* = Transform vs PredictionEngine on the first 1,024 rows.");
            text.AppendLine();
            text.AppendLine("| Network | Rows | Transform rows/s | PredictionEngine rows/s | Speed-up Transform / PredictionEngine | Raw forward rows/s (batch) | Transform / raw | Raw forward rows/s (1 row/pass) | PredictionEngine / raw 1-row | Input cursor read alone rows/s | max abs Δ score | Other load |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in Scoring)
            {
                text.AppendLine($"| {r.Network.Name} | {r.Rows:N0} | {N(r.TransformRowsPerSecond, "N0")} | {N(r.EngineRowsPerSecond, "N0")} | **{N(r.TransformRowsPerSecond / r.EngineRowsPerSecond, "F1")}×** | " +
                                $"{N(r.RawRowsPerSecond, "N0")} | {N(r.TransformRowsPerSecond / r.RawRowsPerSecond, "F2")} | {N(r.RawSingleRowsPerSecond, "N0")} | {N(r.EngineRowsPerSecond / r.RawSingleRowsPerSecond, "F2")} | " +
                                $"{N(r.SourceReadRowsPerSecond, "N0")} | {N(r.MaxAbsDifference, "G2")} | {Load(r.OtherLoad)} |");
            }
            text.AppendLine();

            if (Profiles.Count > 0)
            {
                text.AppendLine("## Where the engine's time goes: seconds per epoch (ratio to raw)");
                text.AppendLine();
                text.AppendLine("Each column adds one thing the engine does to the raw loop; the extra columns are replicas written in this benchmark. Epoch 0 from the same seed, " +
                                $"round-robin over the columns, median of {s.ProfileRepeats}. *Engine step extras* = lr set on every param group, `.to(device)`, `loss.ToDouble()` before backward, argmax/eq/sum/`ToInt64` accuracy per step. " +
                                "*Managed batches* = rows gathered into a new float[] per batch from 4096-row chunks, `torch.tensor` copy, labels converted with LINQ (BatchSource.Gather/MakeBatch). " +
                                "*Prefetch* = the same batches produced on a background task through a bounded queue of 4 (BatchSource.Prefetch). " +
                                "*Real BatchSource alone* = the engine's own InMemoryBatchSource (reached by reflection) enumerating one epoch without training.");
                text.AppendLine();
                text.AppendLine("| Network | Raw loop | + engine step extras | + managed batches (same thread) | + prefetch thread | Ours (engine: 1-epoch Fit, epoch time) | Real BatchSource alone | Other load |");
                text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
                foreach (var p in Profiles)
                {
                    var baseline = p.Variants[LoopVariant.Raw];
                    string Cell(double v) => $"{N(v, "F3")} ({N(v / baseline, "F2")})";
                    text.AppendLine($"| {p.Network.Name} | {Cell(baseline)} | {Cell(p.Variants[LoopVariant.EngineStep])} | {Cell(p.Variants[LoopVariant.ManagedBatches])} | " +
                                    $"{Cell(p.Variants[LoopVariant.Prefetch])} | {Cell(p.Ours)} | {(p.BatchSourceAlone is { } a ? N(a, "F3") : "n/a: " + p.ProbeError)} | {Load(p.OtherLoad)} |");
                }
                text.AppendLine();
            }
            return text.ToString();
        }

        private static string Version(Type type)
        {
            var version = type.Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                ?? type.Assembly.GetName().Version?.ToString() ?? "?";
            var plus = version.IndexOf('+', StringComparison.Ordinal);
            return plus > 0 ? version[..plus] : version;
        }

        private string PackageVersion(string id)
        {
            var props = Path.Combine(_root, "Directory.Packages.props");
            if (!File.Exists(props))
                return "?";
            var match = Regex.Match(File.ReadAllText(props), $"Include=\"{Regex.Escape(id)}\"\\s+Version=\"([^\"]+)\"");
            return match.Success ? match.Groups[1].Value : "?";
        }

        private static string CpuModel()
        {
            try
            {
                var line = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) : null;
                return line is null ? "" : " (" + line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim() + ")";
            }
            catch (IOException)
            {
                return "";
            }
        }
    }
}

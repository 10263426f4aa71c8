using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Detection;
using Samples.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Detection;

/// <summary>
/// <c>--detection</c> (or <c>--detection-quick</c>): NMS on 1,000 random boxes, ours (one bulk copy + tight loop) against
/// TorchVision.NET's <c>torchvision.ops.nms</c> (a managed loop with a host sync per kept box), same boxes, keep lists
/// checked equal; then the ObjectDetector with each architecture (anchor-free, Faster R-CNN, SSD) on the same seeded
/// canvases: training images/s, scoring images/s (batched <c>Detect</c> and <c>Transform</c>), and COCO mAP on test canvases. Writes benchmarks/results/detection.md.
/// Options: <c>--detection-train N</c>, <c>--detection-test N</c>, <c>--detection-epochs N</c> (canvases and epochs; default
/// 480 / 200 / 8), <c>--detection-width W</c> (default 0.5), <c>--detection-architectures A,B</c> (default all three),
/// <c>--detection-full-fashion</c> (items from the full Fashion-MNIST of Debian's dataset-fashion-mnist instead of the
/// committed 1,000 / 300-item subset), <c>--detection-digits</c> (also OpenCV's handwritten digits, ten more classes),
/// <c>--detection-mosaic P</c> (mosaic augmentation with probability P), <c>--detection-pyramid</c> (the anchor-free detector on strides 8/16/32, <c>PyramidLevels</c> 3), <c>--detection-no-nms</c> (skip the NMS part), <c>--detection-nms-only</c> (only the NMS part: ours, TorchVision.NET's and native torchvision's; results in detection-nms.md), <c>--threads N</c>; the results file is then detection-custom.md.
/// </summary>
internal static class DetectionBenchmark
{
    public static bool Wants(string[] args) => args.Contains("--detection") || args.Contains("--detection-quick");

    private sealed class Row
    {
        [ImageType(128, 128)]
        public MLImage? Image { get; set; }

        public string[] Labels { get; set; } = [];

        public float[] Box { get; set; } = [];
    }

    public static int Run(string[] args)
    {
        var quick = args.Contains("--detection-quick");
        var custom = args.Any(a => a.StartsWith("--detection-", StringComparison.Ordinal) && a != "--detection-quick") || args.Contains("--threads");
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(BenchArgs.PositiveInt(args, "--threads") ?? Environment.ProcessorCount);
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"# Detection benchmark ({(quick ? "quick" : "full")})\n");
        report.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks -- {string.Join(' ', args)}`; {Environment.ProcessorCount} cores, torch threads {torch.get_num_threads()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.\n");

        // 1. NMS on 1,000 boxes.
        if (!args.Contains("--detection-no-nms"))
            Nms(quick, report);
        if (args.Contains("--detection-nms-only"))
        {
            var nmsPath = Path.Combine(DigitsData.RepoRoot(), "benchmarks", "results", "detection-nms.md");
            File.WriteAllText(nmsPath, report.ToString());
            Console.Error.WriteLine($"Wrote {nmsPath}");
            return 0;
        }

        // 2. The detector on canvases.
        var trainCount = BenchArgs.PositiveInt(args, "--detection-train") ?? (quick ? 96 : 480);
        var testCount = BenchArgs.PositiveInt(args, "--detection-test") ?? (quick ? 48 : 200);
        var epochs = BenchArgs.PositiveInt(args, "--detection-epochs") ?? (quick ? 1 : 8);
        var width = BenchArgs.PositiveDouble(args, "--detection-width") ?? 0.5;
        var wanted = BenchArgs.Value(args, "--detection-architectures")?.Split(',') ?? ["AnchorFreeDetector", "FasterRcnn", "Ssd"];
        var fullFashion = args.Contains("--detection-full-fashion");
        var digits = args.Contains("--detection-digits");
        var generator = new DetectionCanvases(DetectionCanvases.FindDataDirectory(), fullFashion ? DetectionCanvases.DebianFashionMnist : null,
            digits ? DetectionCanvases.DebianDigits : null);
        string[]? classes = digits ? [.. Directory.GetDirectories(Path.Combine(DetectionCanvases.FindDataDirectory(), "fashion-mnist", "train")).Select(d => Path.GetFileName(d)!).OrderBy(c => c, StringComparer.Ordinal), .. DetectionCanvases.DigitClasses] : null;
        var ml = new MLContext(seed: 1);
        IDataView Load(IEnumerable<DetectionCanvas> canvases) => ml.Data.LoadFromEnumerable(canvases.Select(c => new Row { Image = c.Image, Labels = c.Labels, Box = c.Box }).ToArray());
        var train = Load(generator.Generate("train", trainCount, 1, classes));
        var testCanvases = generator.Generate("test", testCount, 2, classes);
        var test = Load(testCanvases);
        var keys = ml.Transforms.Conversion.MapValueToKey("Label", "Labels").Fit(train);
        var images = testCanvases.Select(c => (MLImage?)c.Image).ToArray();
        var architectures = new (string Name, DetectorParameters Parameters)[]
        {
            ("AnchorFreeDetector", new AnchorFreeDetectorParameters { Width = width, PyramidLevels = args.Contains("--detection-pyramid") ? 3 : 1 }),
            ("FasterRcnn", new FasterRcnnParameters { Width = width }),
            ("Ssd", new SsdParameters { Width = width }),
        }.Where(a => wanted.Contains(a.Name, StringComparer.OrdinalIgnoreCase)).ToArray();
        var source = (fullFashion ? "full Fashion-MNIST (Debian dataset-fashion-mnist: 60,000 train / 10,000 test items)" : "the committed Fashion-MNIST subset (1,000 train / 300 test items)")
                     + (digits ? " + OpenCV's handwritten digits (4,000 train / 1,000 test), 20 classes" : ", all ten classes");
        report.AppendLine(CultureInfo.InvariantCulture, $"## ObjectDetector per architecture (width {width}{(args.Contains("--detection-pyramid") ? ", anchor-free on a 3-level pyramid" : "")}{(BenchArgs.PositiveDouble(args, "--detection-mosaic") is { } mosaic ? $", mosaic {mosaic}" : "")}, 128×128, batch 16, Adam 3e-3 cosine), {trainCount} train / {testCount} test canvases from {source}, {epochs} epochs\n");
        report.AppendLine("| architecture | training images/s (epoch time, training metrics included) | Fit wall time s | other processes' cores during Fit | scoring images/s, batched `Detect` | scoring images/s, `Transform` + `EvaluateDetections` | test mAP@0.5 | test mAP@0.5:0.95 |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, parameters) in architectures)
        {
            var clock = Stopwatch.StartNew();
            var load = LoadMeter.Start();
            using var model = ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions
            {
                Epochs = epochs,
                BatchSize = 16,
                LearningRate = 3e-3,
                Schedule = LearningRateSchedule.Cosine(),
                ScoreThreshold = 0.05,
                Architecture = parameters,
                Mosaic = BenchArgs.PositiveDouble(args, "--detection-mosaic") ?? 0,
                Callback = custom ? new EpochPrinter() : null,
                // The per-epoch lines of a custom run show training mAP beside validation mAP (over- or under-fitting).
                TrainingMeanAveragePrecision = custom,
                ValidationSet = custom ? keys.Transform(test) : null,
            }).Fit(keys.Transform(train));
            var fitSeconds = clock.Elapsed.TotalSeconds;
            var otherCores = load.OtherCores();
            var epochSeconds = model.History.Sum(h => h.Duration.TotalSeconds);
            model.Detect(images.Take(16).ToArray());
            clock.Restart();
            model.Detect(images);
            var detectSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var scored = model.Transform(keys.Transform(test));
            var metrics = ml.MulticlassClassification.EvaluateDetections(scored);
            var transformSeconds = clock.Elapsed.TotalSeconds;
            var row = string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {trainCount * epochs / epochSeconds:F1} | {fitSeconds:F1} | {(otherCores is { } o ? o.ToString("F2", CultureInfo.InvariantCulture) : "n/a")} | {testCount / detectSeconds:F1} | {testCount / transformSeconds:F1} | {metrics.MeanAveragePrecision50:F3} | {metrics.MeanAveragePrecision:F3} |");
            report.AppendLine(row);
            Console.WriteLine(row);
        }
        report.AppendLine();
        report.AppendLine("The ratio against a raw TorchSharp loop on the same network is `--detection-raw-loop` (DetectionRawLoop.cs).");
        var text = report.ToString();
        Console.WriteLine(text);
        var outPath = Path.Combine(DigitsData.RepoRoot(), "benchmarks", "results", custom ? "detection-custom.md" : quick ? "detection-quick.md" : "detection.md");
        File.WriteAllText(outPath, text);
        Console.Error.WriteLine($"Wrote {outPath}");
        return 0;
    }

    /// <summary>Prints each epoch (custom runs monitor the test canvases as validation set: no early stopping, so the final model is the same).</summary>
    private sealed class EpochPrinter : TrainingCallback
    {
        public override void OnEpochEnd(EpochMetrics metrics)
            => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.UtcNow:HH:mm:ss} {metrics}, load average {LoadMeter.LoadAverage():F1}"));
    }

    private static void Nms(bool quick, StringBuilder report)
    {
        var random = new Random(1);
        var n = 1000;
        var values = new float[n * 4];
        for (var i = 0; i < n; i++)
        {
            var (x, y) = (random.NextSingle() * 600, random.NextSingle() * 600);
            var (w, h) = (8 + random.NextSingle() * 120, 8 + random.NextSingle() * 120);
            (values[4 * i], values[4 * i + 1], values[4 * i + 2], values[4 * i + 3]) = (x, y, x + w, y + h);
        }
        using var boxes = tensor(values, [n, 4]);
        using var scores = rand(n, generator: new Generator(1));
        using var classes = randint(0, 10, [n], generator: new Generator(2));
        var ours = BoxOperations.Nms(boxes, scores, 0.5);
        long[] theirs;
        using (var scope = NewDisposeScope())
            theirs = torchvision.ops.nms(boxes, scores, 0.5).data<long>().ToArray();
        if (!ours.SequenceEqual(theirs))
            throw new InvalidOperationException("Our NMS and TorchVision.NET's keep different boxes.");
        var oursMs = Median(quick ? 10 : 30, () => BoxOperations.Nms(boxes, scores, 0.5));
        var batchedMs = Median(quick ? 10 : 30, () => BoxOperations.BatchedNms(boxes, scores, classes, 0.5));
        var theirsMs = Median(quick ? 3 : 7, () =>
        {
            using var scope = NewDisposeScope();
            torchvision.ops.nms(boxes, scores, 0.5);
        });
        var batchedKept = BoxOperations.BatchedNms(boxes, scores, classes, 0.5).Length;
        var native = NativeNms(values, scores, classes, quick ? 10 : 30);
        report.AppendLine("## NMS, 1,000 random boxes, IoU 0.5 (median ms per call, one thread)\n");
        report.AppendLine("| | ms | kept | vs TorchVision.NET | vs native torchvision |\n|---|---:|---:|---:|---:|");
        string VsNative(double ms, double? nativeMs) => nativeMs is { } n ? string.Create(CultureInfo.InvariantCulture, $"{n / ms:F2}×") : "—";
        report.AppendLine(CultureInfo.InvariantCulture, $"| TorchVision.NET 0.107 `ops.nms` | {theirsMs:F2} | {theirs.Length} | 1.0× | {VsNative(theirsMs, native?.NmsMs)} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| ours `BoxOperations.Nms` | {oursMs:F2} | {ours.Length} | {theirsMs / oursMs:F1}× faster | {VsNative(oursMs, native?.NmsMs)} |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| ours `BoxOperations.BatchedNms` (10 classes) | {batchedMs:F2} | {batchedKept} | — | {VsNative(batchedMs, native?.BatchedMs)} |");
        if (native is { } t)
        {
            if (!t.Keep.SequenceEqual(ours) || t.BatchedKept != batchedKept)
                throw new InvalidOperationException("Our NMS and native torchvision's keep different boxes.");
            report.AppendLine(CultureInfo.InvariantCulture, $"| native torchvision 0.14 `ops.nms` (C++ kernel, `/usr/bin/python3`, same boxes, same keep list) | {t.NmsMs:F2} | {t.Keep.Length} | {theirsMs / t.NmsMs:F1}× faster | 1.0× |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| native torchvision 0.14 `ops.batched_nms` (10 classes) | {t.BatchedMs:F2} | {t.BatchedKept} | — | 1.0× |");
        }
        else
        {
            report.AppendLine("| native torchvision | not measured (Debian python3-torchvision missing) | | | |");
        }
        report.AppendLine("\n(\"vs native\" > 1: we are faster.)\n");
        Console.WriteLine(report);
    }

    /// <summary>torchvision's C++ <c>nms</c>/<c>batched_nms</c> on the same boxes (<c>benchmarks/pytorch/nms.py</c>), or null without Python.</summary>
    private static (double NmsMs, long[] Keep, double BatchedMs, int BatchedKept)? NativeNms(float[] boxes, Tensor scores, Tensor classes, int repeats)
    {
        var folder = Directory.CreateTempSubdirectory("mldx-nms-").FullName;
        try
        {
            var files = (Boxes: Path.Combine(folder, "boxes.f32"), Scores: Path.Combine(folder, "scores.f32"), Classes: Path.Combine(folder, "classes.i64"));
            File.WriteAllBytes(files.Boxes, System.Runtime.InteropServices.MemoryMarshal.AsBytes(boxes.AsSpan()).ToArray());
            File.WriteAllBytes(files.Scores, System.Runtime.InteropServices.MemoryMarshal.AsBytes(scores.data<float>().ToArray().AsSpan()).ToArray());
            File.WriteAllBytes(files.Classes, System.Runtime.InteropServices.MemoryMarshal.AsBytes(classes.data<long>().ToArray().AsSpan()).ToArray());
            var (output, problem) = PythonSide.Run("nms.py", [files.Boxes, files.Scores, files.Classes, "0.5", repeats.ToString(CultureInfo.InvariantCulture)]);
            if (output is null)
            {
                Console.Error.WriteLine($"native torchvision NMS not measured: {problem}");
                return null;
            }
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToDictionary(p => p[0]);
            return (double.Parse(lines["nms"][1], CultureInfo.InvariantCulture), lines["nms"][2].Split(',').Select(long.Parse).ToArray(),
                double.Parse(lines["batched"][1], CultureInfo.InvariantCulture), int.Parse(lines["batched"][2], CultureInfo.InvariantCulture));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static double Median(int repeats, Action action)
    {
        action();
        var times = new double[repeats];
        for (var i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }
}

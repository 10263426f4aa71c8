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
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(Environment.ProcessorCount);
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"# Detection benchmark ({(quick ? "quick" : "full")})\n");
        report.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks -- {string.Join(' ', args)}`; {Environment.ProcessorCount} cores, torch threads {torch.get_num_threads()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.\n");

        // 1. NMS on 1,000 boxes.
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
        report.AppendLine("## NMS, 1,000 random boxes, IoU 0.5 (median ms per call)\n");
        report.AppendLine("| | ms | kept | vs TorchVision.NET |\n|---|---:|---:|---:|");
        report.AppendLine(CultureInfo.InvariantCulture, $"| TorchVision.NET 0.107 `ops.nms` | {theirsMs:F2} | {theirs.Length} | 1.0× |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| ours `BoxOperations.Nms` | {oursMs:F2} | {ours.Length} | {theirsMs / oursMs:F1}× faster |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| ours `BoxOperations.BatchedNms` (10 classes) | {batchedMs:F2} | {BoxOperations.BatchedNms(boxes, scores, classes, 0.5).Length} | — |\n");
        Console.WriteLine(report);

        // 2. The detector on canvases.
        var (trainCount, testCount, epochs) = quick ? (96, 48, 1) : (480, 200, 8);
        var generator = new DetectionCanvases(DetectionCanvases.FindDataDirectory());
        var ml = new MLContext(seed: 1);
        IDataView Load(IEnumerable<DetectionCanvas> canvases) => ml.Data.LoadFromEnumerable(canvases.Select(c => new Row { Image = c.Image, Labels = c.Labels, Box = c.Box }).ToArray());
        var train = Load(generator.Generate("train", trainCount, 1));
        var testCanvases = generator.Generate("test", testCount, 2);
        var test = Load(testCanvases);
        var keys = ml.Transforms.Conversion.MapValueToKey("Label", "Labels").Fit(train);
        var images = testCanvases.Select(c => (MLImage?)c.Image).ToArray();
        var architectures = new (string Name, DetectorParameters Parameters)[]
        {
            ("AnchorFreeDetector", new AnchorFreeDetectorParameters { Width = 0.5 }),
            ("FasterRcnn", new FasterRcnnParameters { Width = 0.5 }),
            ("Ssd", new SsdParameters { Width = 0.5 }),
        };
        report.AppendLine(CultureInfo.InvariantCulture, $"## ObjectDetector per architecture (width 0.5, 128×128, batch 16, Adam 3e-3 cosine), {trainCount} train / {testCount} test canvases (all ten classes), {epochs} epochs\n");
        report.AppendLine("| architecture | training images/s (epoch time, training metrics included) | Fit wall time s | scoring images/s, batched `Detect` | scoring images/s, `Transform` + `EvaluateDetections` | test mAP@0.5 | test mAP@0.5:0.95 |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, parameters) in architectures)
        {
            var clock = Stopwatch.StartNew();
            using var model = ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions
            {
                Epochs = epochs,
                BatchSize = 16,
                LearningRate = 3e-3,
                Schedule = LearningRateSchedule.Cosine(),
                ScoreThreshold = 0.05,
                Architecture = parameters,
            }).Fit(keys.Transform(train));
            var fitSeconds = clock.Elapsed.TotalSeconds;
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
                $"| {name} | {trainCount * epochs / epochSeconds:F1} | {fitSeconds:F1} | {testCount / detectSeconds:F1} | {testCount / transformSeconds:F1} | {metrics.MeanAveragePrecision50:F3} | {metrics.MeanAveragePrecision:F3} |");
            report.AppendLine(row);
            Console.WriteLine(row);
        }
        report.AppendLine();
        report.AppendLine("No raw-TorchSharp-loop ratio for the detectors yet: the benchmark reaches only the public API, and the detection loss is internal.");
        var text = report.ToString();
        Console.WriteLine(text);
        var outPath = Path.Combine(DigitsData.RepoRoot(), "benchmarks", "results", quick ? "detection-quick.md" : "detection.md");
        File.WriteAllText(outPath, text);
        Console.Error.WriteLine($"Wrote {outPath}");
        return 0;
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

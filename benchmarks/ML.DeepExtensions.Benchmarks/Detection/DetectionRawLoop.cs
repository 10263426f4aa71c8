using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Detection;
using Samples.Shared;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Detection;

/// <summary>
/// <c>--detection-raw-loop [--detection-raw-epochs N] [--detection-raw-rounds N] [--detection-train N] [--detection-width W]
/// [--detection-pyramid] [--detection-training-map] [--threads N]</c>: the single-stage detector's training speed through our <c>Fit</c> against a bare
/// TorchSharp loop on the same network description and the same canvases (default 480, all ten classes, 128×128), batch 16,
/// Adam 3e−3, no augmentation in either (our <c>HorizontalFlip</c> off). The raw loop holds all images as one tensor, indexes
/// a shuffled batch, and computes the same loss with the same tensor operations (a copy of the library's FCOS assignment,
/// sigmoid focal loss and 2 × (1 − GIoU)). Our epochs include what <c>Fit</c> does per epoch: batches assembled from bytes,
/// the loss read every step (divergence check) and the epoch-end checks; training mAP is off by default
/// (<c>ObjectDetectorOptions.TrainingMeanAveragePrecision</c>). <c>--detection-training-map</c> adds, per round, our <c>Fit</c>
/// with training mAP on (decoding every batch's output — top-k, NMS — and a COCO evaluation), to show its cost.
/// Rounds alternate ours and raw; seconds per epoch are the mean of the epochs after the first.
/// </summary>
internal static class DetectionRawLoop
{
    private const int Size = 128;
    private const int BatchSize = 16;
    private const double LearningRate = 3e-3;

    public static bool Wants(string[] args) => args.Contains("--detection-raw-loop");

    private sealed class Row
    {
        [ImageType(Size, Size)]
        public MLImage? Image { get; set; }

        public string[] Labels { get; set; } = [];

        public float[] Box { get; set; } = [];
    }

    public static int Run(string[] args)
    {
        var epochs = BenchArgs.PositiveInt(args, "--detection-raw-epochs") ?? 3;
        var rounds = BenchArgs.PositiveInt(args, "--detection-raw-rounds") ?? 2;
        var count = BenchArgs.PositiveInt(args, "--detection-train") ?? 480;
        var width = BenchArgs.PositiveDouble(args, "--detection-width") ?? 0.5;
        var pyramid = args.Contains("--detection-pyramid");
        var threads = BenchArgs.PositiveInt(args, "--threads") ?? 1;
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(threads);
        var canvases = new DetectionCanvases(DetectionCanvases.FindDataDirectory()).Generate("train", count, 1);
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(canvases.Select(c => new Row { Image = c.Image, Labels = c.Labels, Box = c.Box }).ToArray());
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Labels").Fit(data).Transform(data);
        var classNames = canvases.SelectMany(c => c.Labels).Distinct().OrderBy(n => n, StringComparer.Ordinal).ToArray();

        // Raw inputs: pixels in [0, 1] as one (N, 3, S, S) tensor; boxes padded to the most objects per canvas, with a mask.
        var most = canvases.Max(c => c.Labels.Length);
        var pixels = new float[count * 3 * Size * Size];
        var boxes = new float[count * most * 4];
        var classes = new long[count * most];
        var mask = new float[count * most];
        for (var i = 0; i < count; i++)
        {
            var rgba = canvases[i].Image.Pixels;
            var bgra = canvases[i].Image.PixelFormat == MLPixelFormat.Bgra32;
            for (var p = 0; p < Size * Size; p++)
                for (var c = 0; c < 3; c++)
                    pixels[(i * 3 + c) * Size * Size + p] = rgba[4 * p + (bgra ? 2 - c : c)] / 255f;
            for (var k = 0; k < canvases[i].Labels.Length; k++)
            {
                Array.Copy(canvases[i].Box, 4 * k, boxes, (i * most + k) * 4, 4);
                classes[i * most + k] = Array.IndexOf(classNames, canvases[i].Labels[k]);
                mask[i * most + k] = 1;
            }
        }
        using var images = torch.tensor(pixels, [count, 3, Size, Size]);
        using var gtBoxes = torch.tensor(boxes, [count, most, 4]);
        using var gtClasses = torch.tensor(classes, [count, most]);
        using var gtMask = torch.tensor(mask, [count, most]);

        var trainingMap = args.Contains("--detection-training-map");
        var rows = new List<string>();
        var ratios = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            var (ours, oursEpoch, oursTotal) = Ours(ml, keyed, epochs, width, pyramid, threads, round, trainingMeanAveragePrecision: false);
            using var disposeOurs = ours;
            var rawEpoch = Raw(ours.Network, images, gtBoxes, gtClasses, gtMask, classNames.Length, epochs, round);
            ratios.Add(oursEpoch / rawEpoch);
            var withMap = "";
            if (trainingMap)
            {
                var (mapModel, mapEpoch, _) = Ours(ml, keyed, epochs, width, pyramid, threads, round, trainingMeanAveragePrecision: true);
                mapModel.Dispose();
                withMap = string.Create(CultureInfo.InvariantCulture, $" {mapEpoch:F2} | {mapEpoch / rawEpoch:F3} |");
            }
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {round} | {oursEpoch:F2} | {rawEpoch:F2} | {oursEpoch / rawEpoch:F3} |{withMap} {count / oursEpoch:F1} | {count / rawEpoch:F1} | {oursTotal:F1} | {LoadMeter.LoadAverage()?.ToString("F1", CultureInfo.InvariantCulture) ?? "n/a"} |"));
            Console.Error.WriteLine(rows[^1]);
        }
        ratios.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"## Detection training: our Fit vs a raw TorchSharp loop (AnchorFreeDetector width {width}{(pyramid ? ", 3-level pyramid" : "")}, {count} canvases, batch {BatchSize}, {epochs} epochs per round, {threads} torch thread(s)), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));
        Console.WriteLine();
        Console.WriteLine(trainingMap
            ? "| Round | Ours s/epoch | Raw s/epoch | Ratio | Ours with training mAP s/epoch | Its ratio | Ours images/s | Raw images/s | Our whole Fit s | Load average after |"
            : "| Round | Ours s/epoch | Raw s/epoch | Ratio | Ours images/s | Raw images/s | Our whole Fit s | Load average after |");
        Console.WriteLine(trainingMap ? "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" : "|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
            Console.WriteLine(row);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Median ratio over {rounds} round(s): {ratios[ratios.Count / 2]:F3} (seconds per epoch, mean of epochs 2–{epochs} in each round)."));
        return 0;
    }

    /// <summary>Our <c>Fit</c>; the model, the mean seconds of the epochs after the first, and the whole <c>Fit</c>'s seconds.</summary>
    private static (ObjectDetectorTransformer Model, double Epoch, double Total) Ours(MLContext ml, IDataView keyed, int epochs, double width, bool pyramid, int threads, int round, bool trainingMeanAveragePrecision)
    {
        var clock = Stopwatch.StartNew();
        var model = ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions
        {
            Epochs = epochs,
            BatchSize = BatchSize,
            LearningRate = LearningRate,
            HorizontalFlip = false,
            NumberOfThreads = threads,
            TrainingMeanAveragePrecision = trainingMeanAveragePrecision,
            Architecture = new AnchorFreeDetectorParameters { Width = width, PyramidLevels = pyramid ? 3 : 1 },
        }).Fit(keyed);
        var total = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"round {round} ours{(trainingMeanAveragePrecision ? " with training mAP" : "")}: {string.Join(", ", model.History.Select(h => h.Duration.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)))} s per epoch"));
        return (model, model.History.Skip(1).Average(h => h.Duration.TotalSeconds), total);
    }

    /// <summary>Trains a fresh copy of <paramref name="network"/> for <paramref name="epochs"/>; the mean seconds of the epochs after the first.</summary>
    private static double Raw(ML.DeepExtensions.Networks.Network network, Tensor images, Tensor gtBoxes, Tensor gtClasses, Tensor gtMask, int classCount, int epochs, int seed)
    {
        var (model, module) = VisionRawTrainer.Build(network, [3, Size, Size], seed);
        using var disposeModel = model;
        using var optimizer = torch.optim.Adam(module.parameters(), LearningRate, 0.9, 0.999, 1e-8);
        var n = (int)images.shape[0];
        var random = new Random(seed);
        var times = new List<double>();
        module.train();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var order = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
            random.Shuffle(order);
            var watch = Stopwatch.StartNew();
            for (var start = 0; start < n; start += BatchSize)
            {
                using var scope = torch.NewDisposeScope();
                var index = torch.tensor(order.AsSpan(start, Math.Min(BatchSize, n - start)).ToArray());
                optimizer.zero_grad();
                var output = module.forward(images.index_select(0, index));
                var loss = Loss(output, gtBoxes.index_select(0, index), gtClasses.index_select(0, index), gtMask.index_select(0, index), classCount);
                loss.backward();
                optimizer.step();
            }
            times.Add(watch.Elapsed.TotalSeconds);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"raw epoch {epoch + 1}: {times[^1]:F1} s"));
        }
        return times.Skip(1).Average();
    }

    /// <summary>The single-stage detector's loss, written out as a user of plain TorchSharp would (same operations as the library's).</summary>
    private static Tensor Loss(Tensor output, Tensor gt, Tensor gtClasses, Tensor mask, int classCount)
    {
        var (points, strides) = Locations(output.shape[1]);
        var stride = strides.view(1, -1, 1);
        var px = points[.., 0].view(1, -1, 1);
        var py = points[.., 1].view(1, -1, 1);
        var (x0, y0, x1, y1) = (gt[.., .., 0].unsqueeze(1), gt[.., .., 1].unsqueeze(1), gt[.., .., 2].unsqueeze(1), gt[.., .., 3].unsqueeze(1));
        var inside = torch.minimum(torch.minimum(px - x0, py - y0), torch.minimum(x1 - px, y1 - py)).gt(0);
        var radius = 2.5 * stride;
        var near = (px - (x0 + x1) / 2).abs().lt(radius).logical_and((py - (y0 + y1) / 2).abs().lt(radius));
        var candidate = inside.logical_and(near).logical_and(mask.unsqueeze(1).gt(0));
        if (output.shape[1] != (Size / 8) * (Size / 8))
        {
            var farthest = torch.maximum(torch.maximum(px - x0, py - y0), torch.maximum(x1 - px, y1 - py));
            var lower = torch.where(stride.eq(8), torch.zeros_like(stride), 4 * stride);
            var upper = torch.where(stride.eq(32), torch.full_like(stride, float.PositiveInfinity), 8 * stride);
            candidate = candidate.logical_and(farthest.gt(lower)).logical_and(farthest.le(upper));
        }
        var area = ((x1 - x0) * (y1 - y0)).expand_as(candidate);
        var (smallest, assigned) = torch.where(candidate, area, torch.full_like(area, float.PositiveInfinity)).min(2);
        var positive = smallest.isfinite();
        var positives = positive.sum().to(ScalarType.Float32).clamp_min(1);

        var logits = output[.., .., 4..];
        var targets = nn.functional.one_hot(gtClasses.gather(1, assigned), classCount).to(logits.dtype) * positive.unsqueeze(-1).to(logits.dtype);
        var probability = logits.sigmoid();
        var ce = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction: nn.Reduction.None);
        var pt = probability * targets + (1 - probability) * (1 - targets);
        var alpha = 0.25 * targets + 0.75 * (1 - targets);
        var focal = (alpha * ce * (1 - pt).pow(2)).sum() / positives;

        var d = output[.., .., ..4].clamp(-8, 8).exp() * stride;
        var (x, y) = (points[.., 0].view(1, -1), points[.., 1].view(1, -1));
        var predicted = torch.stack([x - d[.., .., 0], y - d[.., .., 1], x + d[.., .., 2], y + d[.., .., 3]], 2);
        var target = gt.gather(1, assigned.unsqueeze(-1).expand(-1, -1, 4));
        var giou = BoxOperations.ElementwiseGeneralizedIou(predicted[positive], target[positive]);
        return focal + 2 * ((1 - giou).sum() / positives);
    }

    private static (Tensor Points, Tensor Strides) Locations(long rows)
    {
        int[] levels = rows == (Size / 8) * (Size / 8) ? [8] : [8, 16, 32];
        var points = new List<Tensor>();
        var strides = new List<Tensor>();
        foreach (var stride in levels)
        {
            var cells = Size / stride;
            var centres = (torch.arange(cells, dtype: ScalarType.Float32) + 0.5f) * stride;
            points.Add(torch.stack([centres.view(1, -1).expand(cells, cells).reshape(-1), centres.view(-1, 1).expand(cells, cells).reshape(-1)], 1));
            strides.Add(torch.full(cells * cells, stride, ScalarType.Float32));
        }
        return (torch.cat(points, 0), torch.cat(strides, 0));
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>How raw detector outputs become detections: score threshold, NMS overlap, how many per image.</summary>
/// <param name="ScoreThreshold">Lowest class probability kept.</param>
/// <param name="IouThreshold">Overlap above which a lower-scored box of the same class is suppressed.</param>
/// <param name="MaxDetections">Detections kept per image, highest scores first.</param>
/// <param name="PreNmsCandidates">Candidates taken per image before NMS (by score, over every location and class).</param>
internal sealed record DetectionDecoding(double ScoreThreshold, double IouThreshold, int MaxDetections, int PreNmsCandidates = 1000);

/// <summary>Detections of one image in input pixels: boxes (4 per detection), zero-based classes and scores, best first.</summary>
internal sealed record DecodedImage(float[] Boxes, int[] Classes, float[] Scores);

/// <summary>
/// Turns a detector's output into detections: boxes and class probabilities per candidate (the anchor-free head's locations ×
/// classes with sigmoid probabilities; Faster R-CNN's proposals × classes with softmax probabilities and per-class boxes; SSD's default boxes × classes with softmax probabilities),
/// clipped to the input square, then one shared selection: per image the top candidates by probability (one top-k on the
/// device for the whole batch, one copy to the CPU), thresholded, batched per-class NMS, at most
/// <see cref="DetectionDecoding.MaxDetections"/>.
/// </summary>
internal static class DetectionDecoder
{
    /// <summary>Centres of the stride-8 locations of an input of <paramref name="size"/>², row-major: (L, 2) x, y.</summary>
    public static Tensor Points(int size, Device device) => Locations(size, (size / DetectionArchitectures.Stride) * (size / DetectionArchitectures.Stride), device).Points;

    /// <summary>
    /// Centres (L, 2: x, y) and strides (L) of the anchor-free head's <paramref name="rows"/> output rows for an input of
    /// <paramref name="size"/>²: the stride-8 map alone (one level), or the stride-8, 16 and 32 maps in order
    /// (<see cref="PyramidDetectionHeadLayer"/>), each row-major.
    /// </summary>
    /// <exception cref="InvalidOperationException">The row count fits neither layout.</exception>
    public static (Tensor Points, Tensor Strides) Locations(int size, long rows, Device device)
    {
        int[] strides = rows == (size / DetectionArchitectures.Stride) * (size / DetectionArchitectures.Stride) ? [DetectionArchitectures.Stride]
            : rows == PyramidDetectionHeadLayer.Rows(size) ? PyramidDetectionHeadLayer.Strides
            : throw new InvalidOperationException($"The detector's output has {rows} rows per image; expected {(size / DetectionArchitectures.Stride) * (size / DetectionArchitectures.Stride)} (one stride-8 level) or {PyramidDetectionHeadLayer.Rows(size)} (strides 8/16/32) for {size}×{size} inputs.");
        using var scope = torch.NewDisposeScope();
        var points = new List<Tensor>();
        var perRow = new List<Tensor>();
        foreach (var stride in strides)
        {
            var cells = size / stride;
            var centres = (torch.arange(cells, dtype: ScalarType.Float32, device: device) + 0.5f) * stride;
            var ys = centres.view(-1, 1).expand(cells, cells);
            var xs = centres.view(1, -1).expand(cells, cells);
            points.Add(torch.stack([xs.reshape(-1), ys.reshape(-1)], 1));
            perRow.Add(torch.full(cells * cells, stride, ScalarType.Float32, device));
        }
        return (torch.cat(points, 0).MoveToOuterDisposeScope(), torch.cat(perRow, 0).MoveToOuterDisposeScope());
    }

    /// <summary>Boxes from log-distances (N, L, 4) at stride-8 <paramref name="points"/> (L, 2): x0, y0, x1, y1.</summary>
    public static Tensor Boxes(Tensor distances, Tensor points) => Boxes(distances, points, DetectionArchitectures.Stride);

    /// <summary>Boxes from log-distances (N, L, 4) in units of each row's stride (<paramref name="strides"/>: a scalar or (L)) at <paramref name="points"/> (L, 2): x0, y0, x1, y1.</summary>
    public static Tensor Boxes(Tensor distances, Tensor points, Tensor strides)
    {
        var d = distances.clamp(-8, 8).exp() * strides.view(1, -1, 1);
        var x = points[.., 0].view(1, -1);
        var y = points[.., 1].view(1, -1);
        return torch.stack([x - d[.., .., 0], y - d[.., .., 1], x + d[.., .., 2], y + d[.., .., 3]], 2);
    }

    private static Tensor Boxes(Tensor distances, Tensor points, int stride)
    {
        var d = distances.clamp(-8, 8).exp() * stride;
        var x = points[.., 0].view(1, -1);
        var y = points[.., 1].view(1, -1);
        return torch.stack([x - d[.., .., 0], y - d[.., .., 1], x + d[.., .., 2], y + d[.., .., 3]], 2);
    }

    /// <summary>The detections of a batch from the output of the architecture named <paramref name="architecture"/>.</summary>
    public static List<DecodedImage> Decode(Tensor output, int size, DetectionDecoding decoding, string architecture = DetectionArchitectures.AnchorFreeDetectorName)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var n = output.shape[0];
        if (architecture == DetectionArchitectures.FasterRcnnName)
        {
            // Proposal rows: box, flag, K + 1 logits (background first), 4 deltas per class. Only real proposals (flag 1) are
            // predictions: padding is 0, and a training step's appended true boxes (FasterRcnnGeometry.TrueBoxRow) are not.
            var classes = (int)(output.shape[2] - 6) / 5;
            var rows = output[.., FasterRcnnGeometry.AnchorCount(size)..];
            var proposals = rows[.., .., ..4];
            var valid = rows[.., .., 4].eq(1).to(output.dtype);
            var probabilities = rows[.., .., 5..(6 + classes)].softmax(-1)[.., .., 1..] * valid.unsqueeze(-1);   // (N, R, K)
            var deltas = rows[.., .., (6 + classes)..].reshape(n, -1, classes, 4);
            var boxes = FasterRcnnGeometry.Decode(deltas, proposals.unsqueeze(2), FasterRcnnGeometry.HeadWeights).clamp(0, size);
            return Select(boxes.reshape(n, -1, 4), probabilities.reshape(n, -1), classes, decoding);
        }
        if (architecture == DetectionArchitectures.SsdName)
        {
            var classes = (int)output.shape[2] - 5;
            var priors = SsdGeometry.Priors(size, output.device);
            var boxes = FasterRcnnGeometry.Decode(output[.., .., ..4], priors.unsqueeze(0), FasterRcnnGeometry.HeadWeights).clamp(0, size);   // (N, P, 4)
            var probabilities = output[.., .., 4..].softmax(-1)[.., .., 1..];                                   // (N, P, K)
            var count = boxes.shape[1];
            return Select(boxes.unsqueeze(2).expand(n, count, classes, 4).reshape(n, -1, 4), probabilities.reshape(n, -1), classes, decoding);
        }
        else
        {
            var classes = (int)output.shape[2] - 4;
            var (points, strides) = Locations(size, output.shape[1], output.device);
            var boxes = Boxes(output[.., .., ..4], points, strides).clamp(0, size);                                     // (N, L, 4)
            var locations = boxes.shape[1];
            var perClass = boxes.unsqueeze(2).expand(n, locations, classes, 4).reshape(n, -1, 4);
            return Select(perClass, output[.., .., 4..].sigmoid().reshape(n, -1), classes, decoding);
        }
    }

    /// <summary>
    /// Detections from candidates laid out class-fastest: <paramref name="boxes"/> (N, M·K, 4) and <paramref name="scores"/>
    /// (N, M·K), candidate j of class j mod K. Per image the top candidates by score (one top-k on the device for the whole
    /// batch, then one copy to the CPU), thresholded, batched per-class NMS, at most <see cref="DetectionDecoding.MaxDetections"/>.
    /// </summary>
    private static List<DecodedImage> Select(Tensor boxes, Tensor scores, int classes, DetectionDecoding decoding)
    {
        var n = (int)boxes.shape[0];
        var k = (int)Math.Min(decoding.PreNmsCandidates, scores.shape[1]);
        var (top, index) = scores.topk(k, 1);
        var candidateBoxes = boxes.gather(1, index.unsqueeze(-1).expand(-1, -1, 4));
        var topCpu = HostCopy.ToArray<float>(top);
        var indexCpu = HostCopy.ToArray<long>(index);
        var boxesCpu = HostCopy.ToArray<float>(candidateBoxes);
        var result = new List<DecodedImage>(n);
        for (var i = 0; i < n; i++)
        {
            var kept = Enumerable.Range(0, k).Where(j => topCpu[i * k + j] >= decoding.ScoreThreshold).ToArray();
            if (kept.Length == 0)
            {
                result.Add(new DecodedImage([], [], []));
                continue;
            }
            var keptBoxes = kept.SelectMany(j => boxesCpu.AsSpan((i * k + j) * 4, 4).ToArray()).ToArray();
            var keptScores = kept.Select(j => topCpu[i * k + j]).ToArray();
            var keptClasses = kept.Select(j => (int)(indexCpu[i * k + j] % classes)).ToArray();
            using var b = torch.tensor(keptBoxes, [kept.Length, 4]);
            using var s = torch.tensor(keptScores);
            using var c = torch.tensor(keptClasses.Select(v => (long)v).ToArray());
            var survivors = BoxOperations.BatchedNms(b, s, c, decoding.IouThreshold).Take(decoding.MaxDetections).ToArray();
            result.Add(new DecodedImage(
                survivors.SelectMany(j => keptBoxes.AsSpan((int)j * 4, 4).ToArray()).ToArray(),
                survivors.Select(j => keptClasses[j]).ToArray(),
                survivors.Select(j => keptScores[j]).ToArray()));
        }
        return result;
    }
}

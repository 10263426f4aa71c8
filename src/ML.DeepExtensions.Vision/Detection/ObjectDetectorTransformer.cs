using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Interop;
using ML.DeepExtensions.Vision.Persistence;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>One detected object: its class, score and box in pixels of the original image.</summary>
/// <param name="Label">The class key (1-based, as the label column's keys).</param>
/// <param name="ClassName">The class name (the label's key value).</param>
/// <param name="Score">The class probability, in (0, 1).</param>
/// <param name="X0">Left edge in pixels.</param>
/// <param name="Y0">Top edge in pixels.</param>
/// <param name="X1">Right edge in pixels.</param>
/// <param name="Y1">Bottom edge in pixels.</param>
public sealed record DetectedObject(uint Label, string ClassName, float Score, float X0, float Y0, float X1, float Y1);

/// <summary>An image letterboxed to the network's input: RGB bytes channel by channel, the scale factor and the original size.</summary>
internal sealed record PreparedImage(byte[] Pixels, float Scale, int Width, int Height);

/// <summary>
/// A fitted object detector. As a transform it reads the image column and adds <c>PredictedLabel</c> (a vector of class keys
/// with the training label's key values), <c>Score</c> (a vector of Single) and <c>PredictedBoundingBoxes</c> (a vector of
/// Single, x0, y0, x1, y1 in pixels of the original image per detection), best first; an empty or missing image gives no
/// detections. <c>Transform</c> scores <see cref="ScoringBatchSize"/> rows per forward pass inside the cursor;
/// <c>PredictionEngine</c> one image per call; <see cref="Detect(IReadOnlyList{MLImage})"/> scores a list of images in batches. Saved with <c>mlContext.Model.Save</c> and loaded back as
/// this type by <c>mlContext.Model.Load</c> in any process.
/// </summary>
public sealed class ObjectDetectorTransformer : ITrainedNetworkTransformer, IDisposable
{
    internal ObjectDetectorTransformer(IHostEnvironment env, NetworkModel model, string[] classNames, string imageColumnName,
        DetectionDecoding decoding, DetectionColumnNames outputs, IReadOnlyList<EpochMetrics> history, int scoringBatchSize)
    {
        Environment = env;
        Model = model;
        ClassNames = classNames;
        ImageColumnName = imageColumnName;
        Decoding = decoding;
        Outputs = outputs;
        History = history;
        ScoringBatchSize = scoringBatchSize;
    }

    internal IHostEnvironment Environment { get; }

    internal NetworkModel Model { get; }

    internal DetectionDecoding Decoding { get; }

    /// <summary>The detection architecture a network ends with (its last architecture layer), which decides the decoding.</summary>
    internal static string ArchitectureOf(Network network)
        => network.Layers.OfType<ArchitectureLayer>().LastOrDefault()?.Name ?? DetectionArchitectures.AnchorFreeDetectorName;

    internal DetectionColumnNames Outputs { get; }

    /// <summary>The class names, in key order (key 1 first).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The image column read by <c>Transform</c>.</summary>
    public string ImageColumnName { get; }

    /// <summary>Side of the square input images are letterboxed into.</summary>
    public int ImageSize => Model.InputShape[1];

    /// <summary>Images per forward pass in <see cref="Detect(IReadOnlyList{MLImage})"/>.</summary>
    public int ScoringBatchSize { get; }

    /// <inheritdoc />
    public Network Network => Model.Network;

    /// <inheritdoc />
    public IReadOnlyList<EpochMetrics> History { get; }

    /// <summary>
    /// The detections of each image (null or empty images give none), scored <see cref="ScoringBatchSize"/> images per forward
    /// pass, each batch inside its own dispose scope.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<DetectedObject>> Detect(IReadOnlyList<MLImage?> images)
    {
        Guard.NotNull(images);
        var result = new List<IReadOnlyList<DetectedObject>>(images.Count);
        for (var start = 0; start < images.Count; start += ScoringBatchSize)
        {
            var batch = Enumerable.Range(start, Math.Min(ScoringBatchSize, images.Count - start)).Select(i => Prepare(images[i])).ToArray();
            result.AddRange(Detect(batch));
        }
        return result;
    }

    /// <summary>An image letterboxed for the network (pixels in [0, 1]), or null when it cannot be (missing, empty, not 32-bit).</summary>
    internal PreparedImage? Prepare(MLImage? image)
    {
        if (image is not { Width: > 0, Height: > 0, BitsPerPixel: 32 })
            return null;
        var (pixels, scale) = Letterbox.Apply(image, ImageSize);
        return new PreparedImage(pixels, scale, image.Width, image.Height);
    }

    /// <summary>The detections of prepared images (null: none) in one forward pass, inside its own dispose scope.</summary>
    internal DetectedObject[][] Detect(IReadOnlyList<PreparedImage?> images)
    {
        var result = new DetectedObject[images.Count][];
        var rows = Enumerable.Range(0, images.Count).Where(i => images[i] is not null).ToArray();
        foreach (var i in Enumerable.Range(0, images.Count).Except(rows))
            result[i] = [];
        if (rows.Length == 0)
            return result;
        var size = ImageSize;
        var plane = 3 * size * size;
        var features = new float[rows.Length * plane];
        for (var r = 0; r < rows.Length; r++)
        {
            var pixels = images[rows[r]]!.Pixels;
            for (var p = 0; p < plane; p++)
                features[r * plane + p] = pixels[p] / 255f;
        }
        List<DecodedImage> decoded;
        using (var scope = torch.NewDisposeScope())
        using (var noGrad = torch.no_grad())
        {
            var x = torch.tensor(features, [rows.Length, 3, size, size]).to(Model.Device);
            decoded = DetectionDecoder.Decode(Model.Module.forward(x), size, Decoding, ArchitectureOf(Network));
        }
        for (var r = 0; r < rows.Length; r++)
        {
            var image = images[rows[r]]!;
            var d = decoded[r];
            var scale = image.Scale;
            result[rows[r]] = Enumerable.Range(0, d.Scores.Length).Select(j => new DetectedObject(
                (uint)d.Classes[j] + 1, ClassNames[d.Classes[j]], d.Scores[j],
                Math.Min(d.Boxes[4 * j] / scale, image.Width), Math.Min(d.Boxes[4 * j + 1] / scale, image.Height),
                Math.Min(d.Boxes[4 * j + 2] / scale, image.Width), Math.Min(d.Boxes[4 * j + 3] / scale, image.Height))).ToArray();
        }
        return result;
    }

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => DetectionInterop.OutputSchema(this, Guard.NotNull(inputSchema));

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => DetectionInterop.RowToRowMapper(this, Guard.NotNull(inputSchema));

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        Guard.NotNull(input);
        GetOutputSchema(input.Schema);  // schema errors here, not at the first cursor
        return new BatchedDataView(new DetectionBatchScorer(this), input);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => ObjectDetectorFormat.Save(ctx, this);

    /// <summary>Frees the network's native memory.</summary>
    public void Dispose() => Model.Dispose();
}

using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions;
using ML.DeepExtensions.Vision;
using Microsoft.ML.Data;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Detection;

namespace Microsoft.ML;

/// <summary>
/// Object detection entry points: <c>mlContext.MulticlassClassification.Trainers.ObjectDetector(...)</c> and
/// <c>mlContext.MulticlassClassification.EvaluateDetections(...)</c> (named so as not to collide with ML.NET's
/// <c>ObjectDetection</c> and <c>EvaluateObjectDetection</c> of Microsoft.ML.TorchSharp).
/// </summary>
public static class DeepDetectionCatalog
{
    /// <summary>
    /// Trains an anchor-free single-stage object detector on ML.NET's detection columns (the options overload also offers
    /// Faster R-CNN and SSD through <see cref="ObjectDetectorOptions.Architecture"/>). Output columns:
    /// <c>PredictedLabel</c> (vector of keys), <c>Score</c> and <c>PredictedBoundingBoxes</c> (vectors of Single).
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Label column: a vector of keys, one per object (default <c>Label</c>).</param>
    /// <param name="boxColumnName">Box column: a vector of Single, x0, y0, x1, y1 in pixels per object (default <c>Box</c>).</param>
    /// <param name="imageColumnName">Image column: <c>MLImage</c> from <c>LoadImages</c> (default <c>Image</c>).</param>
    /// <param name="epochs">Passes over the data (default 20).</param>
    /// <param name="batchSize">Images per step (default 16).</param>
    /// <param name="imageSize">Side of the square input images are letterboxed into, a multiple of 8 (default 128).</param>
    public static ObjectDetectorTrainer ObjectDetector(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string boxColumnName = "Box", string imageColumnName = "Image",
        int epochs = TrainerOptions.Defaults.Epochs, int batchSize = ObjectDetectorOptions.Defaults.BatchSize, int imageSize = ObjectDetectorOptions.Defaults.ImageSize)
        => catalog.ObjectDetector(new ObjectDetectorOptions
        {
            LabelColumnName = labelColumnName,
            BoxColumnName = boxColumnName,
            ImageColumnName = imageColumnName,
            Epochs = epochs,
            BatchSize = batchSize,
            ImageSize = imageSize,
        });

    /// <summary>Trains an object detector with every option.</summary>
    public static ObjectDetectorTrainer ObjectDetector(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, ObjectDetectorOptions options)
        => new(global::ML.DeepExtensions.Interop.MLNetInternals.Environment(Guard.NotNull(catalog)), options);

    /// <summary>
    /// COCO box metrics (mAP@0.5:0.95, mAP@0.5, mAP@0.75, per-class AP; see <see cref="DetectionMetrics"/>) of scored data:
    /// true labels (vector of keys) and boxes (x0, y0, x1, y1 per object), predicted labels, scores and boxes as an
    /// <see cref="ObjectDetectorTransformer"/> (or ML.NET's <c>ObjectDetection</c>) writes them.
    /// </summary>
    /// <param name="catalog">The multiclass classification catalog.</param>
    /// <param name="data">Scored data.</param>
    /// <param name="labelColumnName">True class keys (default <c>Label</c>).</param>
    /// <param name="boxColumnName">True boxes (default <c>Box</c>).</param>
    /// <param name="predictedLabelColumnName">Predicted class keys (default <c>PredictedLabel</c>).</param>
    /// <param name="scoreColumnName">Scores (default <c>Score</c>).</param>
    /// <param name="predictedBoxColumnName">Predicted boxes (default <c>PredictedBoundingBoxes</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or of the wrong type (the message names it).</exception>
    /// <exception cref="System.IO.InvalidDataException">A row's counts disagree (4 box values per label, one score per prediction); the message names the row and column.</exception>
    public static DetectionMetrics EvaluateDetections(this MulticlassClassificationCatalog catalog, IDataView data,
        string labelColumnName = "Label", string boxColumnName = "Box", string predictedLabelColumnName = "PredictedLabel",
        string scoreColumnName = "Score", string predictedBoxColumnName = "PredictedBoundingBoxes")
    {
        Guard.NotNull(catalog);
        Guard.NotNull(data);
        var schema = data.Schema;
        var label = KeyVector(schema, "label", labelColumnName);
        var predicted = KeyVector(schema, "predicted label", predictedLabelColumnName);
        var classes = (int)Math.Max(((KeyDataViewType)((VectorDataViewType)label.Type).ItemType).Count, ((KeyDataViewType)((VectorDataViewType)predicted.Type).ItemType).Count);
        var columns = new[] { label, SingleVector(schema, "box", boxColumnName), predicted, SingleVector(schema, "score", scoreColumnName), SingleVector(schema, "predicted box", predictedBoxColumnName) };
        var images = new List<DetectionImage>();
        using var cursor = data.GetRowCursor(columns);
        var getLabels = cursor.GetGetter<VBuffer<uint>>(columns[0]);
        var getBoxes = cursor.GetGetter<VBuffer<float>>(columns[1]);
        var getPredicted = cursor.GetGetter<VBuffer<uint>>(columns[2]);
        var getScores = cursor.GetGetter<VBuffer<float>>(columns[3]);
        var getPredictedBoxes = cursor.GetGetter<VBuffer<float>>(columns[4]);
        VBuffer<uint> labels = default, predictedLabels = default;
        VBuffer<float> boxes = default, scores = default, predictedBoxes = default;
        long row = -1;
        while (cursor.MoveNext())
        {
            row++;
            getLabels(ref labels);
            getBoxes(ref boxes);
            getPredicted(ref predictedLabels);
            getScores(ref scores);
            getPredictedBoxes(ref predictedBoxes);
            var (l, b, p, s, pb) = (labels.DenseValues().ToArray(), boxes.DenseValues().ToArray(), predictedLabels.DenseValues().ToArray(), scores.DenseValues().ToArray(), predictedBoxes.DenseValues().ToArray());
            if (b.Length != 4 * l.Length)
                throw Disagree(row, boxColumnName, b.Length, labelColumnName, l.Length);
            if (pb.Length != 4 * p.Length)
                throw Disagree(row, predictedBoxColumnName, pb.Length, predictedLabelColumnName, p.Length);
            if (s.Length != p.Length)
                throw new System.IO.InvalidDataException(FormattableString.Invariant(
                    $"Row {row}: score column '{scoreColumnName}' holds {s.Length} values for the {p.Length} predictions of column '{predictedLabelColumnName}'; expected one score per prediction."));
            // Missing keys (0) take no part: a class index of -1 matches no class.
            images.Add(new DetectionImage(b, l.Select(k => (int)k - 1).ToArray(), pb, p.Select(k => (int)k - 1).ToArray(), s));
        }
        return CocoEvaluation.Evaluate(images, classes);
    }

    private static System.IO.InvalidDataException Disagree(long row, string boxes, int values, string labels, int count)
        => new(FormattableString.Invariant(
            $"Row {row}: box column '{boxes}' holds {values} values for the {count} labels of column '{labels}'; expected 4 values (x0, y0, x1, y1) per label, {4 * count}."));

    private static DataViewSchema.Column KeyVector(DataViewSchema schema, string role, string name)
    {
        var column = SchemaChecks.Find(schema, role, Guard.NotEmpty(name));
        return column.Type is VectorDataViewType { ItemType: KeyDataViewType { Count: > 0 } key } && key.RawType == typeof(uint)
            ? column : throw SchemaChecks.Mismatch(role, name, "a vector of keys (UInt32)", column.Type);
    }

    private static DataViewSchema.Column SingleVector(DataViewSchema schema, string role, string name)
    {
        var column = SchemaChecks.Find(schema, role, Guard.NotEmpty(name));
        return column.Type is VectorDataViewType { ItemType: var item } && item == NumberDataViewType.Single
            ? column : throw SchemaChecks.Mismatch(role, name, "a vector of Single", column.Type);
    }
}

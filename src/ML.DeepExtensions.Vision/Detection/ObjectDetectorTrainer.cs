using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Tasks;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>
/// Trains an object detector (<see cref="DetectionArchitectures"/>: the anchor-free single-stage detector by default, or
/// Faster R-CNN or SSD with <see cref="FasterRcnnParameters"/> or <see cref="SsdParameters"/> as <see cref="ObjectDetectorOptions.Architecture"/>) on ML.NET's detection columns:
/// an <c>MLImage</c> column (<c>Image</c>), a label column of variable-length key vectors (<c>Label</c>, one key per object)
/// and a box column of variable-length Single vectors (<c>Box</c>, x0, y0, x1, y1 in pixels per object). Every row is
/// checked and letterboxed before training; training is batched (<see cref="ML.DeepExtensions.Training.TrainerOptions.BatchSize"/>) on the library's
/// engine, with COCO mAP on the validation set (or fraction) after every epoch as <c>ValidationMeanAveragePrecision</c> and
/// <c>ValidationMeanAveragePrecision50</c>, which early stopping can monitor. The fitted <see cref="ObjectDetectorTransformer"/>
/// adds <c>PredictedLabel</c> (key vector), <c>Score</c> and <c>PredictedBoundingBoxes</c> (Single vectors) as ML.NET's
/// <c>ObjectDetection</c> trainer does.
/// </summary>
public sealed class ObjectDetectorTrainer : IEstimator<ObjectDetectorTransformer>
{
    private readonly IHost _host;

    internal ObjectDetectorTrainer(IHostEnvironment env, ObjectDetectorOptions options)
    {
        Guard.NotNull(env);
        Options = Guard.NotNull(options);
        options.Validate();
        _host = env.Register(nameof(ObjectDetectorTrainer));
    }

    /// <summary>The options this trainer was created with.</summary>
    public ObjectDetectorOptions Options { get; }

    /// <inheritdoc />
    public ObjectDetectorTransformer Fit(IDataView input)
    {
        Guard.NotNull(input);
        var task = new DetectionTask(Options);
        var fitted = FittingPipeline.Fit(_host, Options, task, input, Options.ValidationSet, DetectionTask.Weights(Options.PretrainedWeights, Options.Architecture));
        return new ObjectDetectorTransformer(_host, fitted.Model, ClassNames(input.Schema[Options.LabelColumnName], task.Classes), Options.ImageColumnName,
            Options.Decoding, new DetectionColumnNames(Options.PredictedLabelColumnName, Options.ScoreColumnName, Options.PredictedBoundingBoxColumnName),
            fitted.History, Options.ScoringBatchSize);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => new DetectionTask(Options).OutputSchema(Guard.NotNull(inputSchema));

    /// <summary>The label's key values as text (class names), or the key numbers when it has none.</summary>
    private static string[] ClassNames(DataViewSchema.Column label, int classes)
    {
        var names = new string[classes];
        var keyValues = label.Annotations.Schema.GetColumnOrNull("KeyValues");
        if (keyValues is { Type: VectorDataViewType { ItemType: TextDataViewType } })
        {
            VBuffer<ReadOnlyMemory<char>> values = default;
            label.Annotations.GetValue("KeyValues", ref values);
            var dense = values.DenseValues();
            var i = 0;
            foreach (var value in dense)
            {
                if (i < classes)
                    names[i] = value.ToString();
                i++;
            }
        }
        for (var i = 0; i < classes; i++)
            names[i] ??= (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return names;
    }
}

/// <summary>Names of the columns a detector adds.</summary>
/// <param name="PredictedLabel">Predicted class keys, one per detection.</param>
/// <param name="Score">Scores, one per detection.</param>
/// <param name="PredictedBoundingBoxes">Boxes, four values per detection.</param>
internal sealed record DetectionColumnNames(string PredictedLabel, string Score, string PredictedBoundingBoxes);

using System;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>
/// Options of <see cref="ObjectDetectorTrainer"/>. Every engine and supervised setting of <see cref="SupervisedTrainerOptions"/>
/// applies (epochs, batch size, optimizer, validation set or fraction, early stopping — e.g. on
/// <c>ValidationMeanAveragePrecision50</c> —, checkpoints, progress, label column), plus ML.NET's detection columns, the
/// input size, the detector's architecture parameters and how detections are kept.
/// </summary>
public sealed class ObjectDetectorOptions : SupervisedTrainerOptions
{
    /// <summary>Defaults shared by the options and the short catalog overload.</summary>
    public static new class Defaults
    {
        /// <summary>Default <see cref="ML.DeepExtensions.Training.TrainerOptions.BatchSize"/>.</summary>
        public const int BatchSize = 16;

        /// <summary>Default <see cref="ImageSize"/>.</summary>
        public const int ImageSize = 128;

        /// <summary>Default <see cref="ScoreThreshold"/>.</summary>
        public const double ScoreThreshold = 0.3;

        /// <summary>Default <see cref="IouThreshold"/>.</summary>
        public const double IouThreshold = 0.5;

        /// <summary>Default <see cref="MaxDetections"/>.</summary>
        public const int MaxDetections = 100;
    }

    /// <summary>Creates options with the detector's defaults (<see cref="Defaults"/>).</summary>
    public ObjectDetectorOptions() => BatchSize = Defaults.BatchSize;

    /// <summary>The image column (default <c>Image</c>): <c>MLImage</c>, from <c>mlContext.Transforms.LoadImages</c>.</summary>
    public string ImageColumnName { get; set; } = "Image";

    /// <summary>The box column (default <c>Box</c>): a vector of Single, x0, y0, x1, y1 in pixels of the image per object, four
    /// values per key of the label column (<see cref="SupervisedTrainerOptions.LabelColumnName"/>, a vector of keys).</summary>
    public string BoxColumnName { get; set; } = "Box";

    /// <summary>Side of the square input, a multiple of 8 (default 128): images are letterboxed into it (scaled by one factor,
    /// placed top-left, padded grey) and boxes scaled alike; predicted boxes come back in pixels of the original image.</summary>
    public int ImageSize { get; set; } = Defaults.ImageSize;

    /// <summary>The architecture and its parameters (width and depth multipliers; the class count is set from the label
    /// column): <see cref="AnchorFreeDetectorParameters"/> (default) for the single-stage anchor-free detector, or
    /// <see cref="FasterRcnnParameters"/> for Faster R-CNN, or <see cref="SsdParameters"/> for SSD (ImageSize a multiple of 32).</summary>
    public DetectorParameters Architecture { get; set; } = new AnchorFreeDetectorParameters();

    /// <summary>Training-only horizontal flip of each image and its boxes with probability 1/2, seeded (default true).</summary>
    public bool HorizontalFlip { get; set; } = true;

    /// <summary>Training-only random scaling of each image and its boxes by a factor drawn from [1 − j, 1 + j], in [0, 1)
    /// (default 0: off). Pixels are resampled nearest-neighbour and boxes snap to the pixels that fill; boxes pushed out of the
    /// image are clipped or dropped. Seeded from <c>MLContext</c>'s seed through the training shuffle.</summary>
    public double ScaleJitter { get; set; }

    /// <summary>Training-only random shift of each image and its boxes by up to j × the image side in each axis, in [0, 1)
    /// (default 0: off); combined with <see cref="ScaleJitter"/> as one map. Seeded like it.</summary>
    public double TranslateJitter { get; set; }

    /// <summary>Training-only random brightness, contrast and saturation factors drawn from [1 − j, 1 + j], in [0, 1)
    /// (default 0: off); boxes do not move. Seeded like <see cref="ScaleJitter"/>.</summary>
    public double ColorJitter { get; set; }

    /// <summary>Training-only mosaic: the probability, in [0, 1] (default 0: off), that a training image is replaced by a
    /// mosaic of itself and three other training images drawn at random — a centre point drawn in the middle half of the
    /// image splits it into four quadrants, each filled by the part of one image that touches the centre (scale 1, no
    /// resampling). Boxes move with their image, are clipped to its quadrant, and are dropped when less than 10 % of their area
    /// or less than 2 pixels of width or height remain (YOLOv5's rule). Flip, scale/translate and colour jitter then apply to
    /// the mosaic as to any image. Seeded like <see cref="ScaleJitter"/>; validation and scoring never see mosaics.</summary>
    public double Mosaic { get; set; }

    /// <summary>Whether each epoch also reports COCO mAP over the training batches as they were trained (the metrics
    /// <c>TrainingMeanAveragePrecision</c> and <c>TrainingMeanAveragePrecision50</c>; default false). Off, training reports its
    /// loss only, as torchvision's detection recipes do: decoding and matching every training batch, then the COCO evaluation,
    /// took about 7 % of a training epoch of the single-stage detector (13 % in the first epoch; docs/detection.md). Validation mAP (<see cref="TrainerOptions.ValidationSet"/>
    /// or <see cref="TrainerOptions.ValidationFraction"/>) is computed every epoch either way.</summary>
    public bool TrainingMeanAveragePrecision { get; set; }

    /// <summary>Lowest class probability a detection needs to be output by the transformer, in [0, 1) (default 0.3).
    /// Validation mAP uses 0.05, as COCO evaluations do.</summary>
    public double ScoreThreshold { get; set; } = Defaults.ScoreThreshold;

    /// <summary>IoU above which NMS drops the lower-scored of two boxes of the same class, in (0, 1] (default 0.5).</summary>
    public double IouThreshold { get; set; } = Defaults.IouThreshold;

    /// <summary>Detections kept per image, best first, &gt; 0 (default 100).</summary>
    public int MaxDetections { get; set; } = Defaults.MaxDetections;

    /// <summary>Output column of the predicted class keys, one per detection (default <c>PredictedLabel</c>).</summary>
    public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

    /// <summary>Output column of the detection scores (default <c>Score</c>).</summary>
    public string ScoreColumnName { get; set; } = "Score";

    /// <summary>Output column of the predicted boxes, four values per detection (default <c>PredictedBoundingBoxes</c>).</summary>
    public string PredictedBoundingBoxColumnName { get; set; } = "PredictedBoundingBoxes";

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Guard.NotEmpty(ImageColumnName);
        Guard.NotEmpty(BoxColumnName);
        Guard.NotEmpty(PredictedLabelColumnName);
        Guard.NotEmpty(ScoreColumnName);
        Guard.NotEmpty(PredictedBoundingBoxColumnName);
        Guard.Positive(ImageSize);
        if (ImageSize % DetectionArchitectures.Stride != 0)
            throw new ArgumentOutOfRangeException(nameof(ImageSize), ImageSize, $"ImageSize must be a multiple of {DetectionArchitectures.Stride}. Received: ImageSize={ImageSize}");
        Guard.NotNull(Architecture);
        if (!(Architecture.Width > 0) || !double.IsFinite(Architecture.Width))
            throw new ArgumentOutOfRangeException(nameof(Architecture), $"Architecture.Width must be a positive number. Received: Width={Architecture.Width}");
        Guard.NonNegative(Architecture.Depth, "Architecture.Depth");
        if (!Enum.IsDefined(Architecture.Backbone))
            throw new ArgumentOutOfRangeException(nameof(Architecture), $"Architecture.Backbone must be one of {string.Join(", ", Enum.GetNames<DetectorBackbone>())}. Received: Backbone={Architecture.Backbone}");
        if (Architecture is { Backbone: DetectorBackbone.ResNet18, Depth: not 1 })
            throw new ArgumentOutOfRangeException(nameof(Architecture), $"Architecture.Depth does not apply to the ResNet18 backbone (torchvision's two blocks per stage); leave it at 1. Received: Depth={Architecture.Depth}");
        if (Architecture is AnchorFreeDetectorParameters { PyramidLevels: not (1 or 3) } anchorFree)
            throw new ArgumentOutOfRangeException(nameof(Architecture), $"Architecture.PyramidLevels must be 1 or 3. Received: PyramidLevels={anchorFree.PyramidLevels}");
        if (Architecture is AnchorFreeDetectorParameters { PyramidLevels: 3 } && ImageSize % 32 != 0)
            throw new ArgumentOutOfRangeException(nameof(ImageSize), ImageSize, $"ImageSize must be a multiple of 32 with PyramidLevels 3 (its coarsest map has stride 32). Received: ImageSize={ImageSize}");
        if (Architecture is SsdParameters && ImageSize % 32 != 0)
            throw new ArgumentOutOfRangeException(nameof(ImageSize), ImageSize, $"ImageSize must be a multiple of 32 for SSD (its coarsest map has stride 32). Received: ImageSize={ImageSize}");
        if (Architecture is FasterRcnnParameters rcnn)
        {
            Guard.Positive(rcnn.Proposals, "Architecture.Proposals");
            Guard.Positive(rcnn.HeadUnits, "Architecture.HeadUnits");
        }
        Guard.InRange(ScaleJitter, 0, 1);
        Guard.InRange(TranslateJitter, 0, 1);
        Guard.InRange(ColorJitter, 0, 1);
        if (!(Mosaic >= 0 && Mosaic <= 1))
            throw new ArgumentOutOfRangeException(nameof(Mosaic), Mosaic, $"Mosaic must be a probability in [0, 1]. Received: Mosaic={Mosaic}");
        if (!TrainingMeanAveragePrecision)
        {
            foreach (var monitor in new[] { EarlyStopping?.Monitor, (Schedule as ReduceOnPlateauSchedule)?.Monitor.Name })
            {
                if (monitor?.StartsWith("TrainingMeanAveragePrecision", StringComparison.Ordinal) == true)
                    throw new ArgumentException($"The monitored metric '{monitor}' is computed only with TrainingMeanAveragePrecision = true; set it, or monitor a validation metric such as 'ValidationMeanAveragePrecision50'. Received: TrainingMeanAveragePrecision=false", nameof(TrainingMeanAveragePrecision));
            }
        }
        Guard.InRange(ScoreThreshold, 0, 1);
        if (!(IouThreshold > 0 && IouThreshold <= 1))
            throw new ArgumentOutOfRangeException(nameof(IouThreshold), IouThreshold, $"IouThreshold must be in (0, 1]. Received: IouThreshold={IouThreshold}");
        Guard.Positive(MaxDetections);
    }

    internal DetectionDecoding Decoding => new(ScoreThreshold, IouThreshold, MaxDetections);
}

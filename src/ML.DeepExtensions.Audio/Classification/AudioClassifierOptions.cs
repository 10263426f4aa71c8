using System;
using System.Reflection;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// Options of <c>mlContext.MulticlassClassification.Trainers.AudioClassifier</c>: keyword spotting / audio classification.
/// An audio column (a vector of Single: mono samples, e.g. from <c>mlContext.Transforms.LoadAudio</c>) becomes a fixed-size
/// log-mel spectrogram (<c>ComputeAudioFeatures</c>: <see cref="Frames"/> frames of <see cref="Features"/>), which a small
/// convolutional network classifies into the key-typed label's classes, with every setting of the training engine. The
/// output columns follow ML.NET's multiclass convention (<c>Score</c>, <c>PredictedLabel</c>), for
/// <c>mlContext.MulticlassClassification.Evaluate</c>.
/// </summary>
public sealed class AudioClassifierOptions : TrainerOptions
{
    /// <summary>Default values, shared by the options and the short catalog overload.</summary>
    public static new class Defaults
    {
        /// <summary>Label column (<c>Label</c>).</summary>
        public const string LabelColumnName = "Label";
        /// <summary>Audio column (<c>Audio</c>).</summary>
        public const string AudioColumnName = "Audio";
        /// <summary>Intermediate features column (<c>AudioFeatures</c>).</summary>
        public const string FeatureColumnName = "AudioFeatures";
        /// <summary>Frames per utterance (100: one second at a 10 ms hop).</summary>
        public const int Frames = 100;
        /// <summary>Passes over the data (30).</summary>
        public const int Epochs = 30;
    }

    /// <summary>Creates options with the classifier's defaults: 30 epochs, batch 32, Adam 2e−3, no weight decay.</summary>
    public AudioClassifierOptions()
    {
        Epochs = Defaults.Epochs;
        BatchSize = 32;
        LearningRate = 2e-3;
        WeightDecay = 0;
    }

    /// <summary>Label column: a key type (use <c>MapValueToKey</c>) (default <c>Label</c>).</summary>
    public string LabelColumnName { get; set; } = Defaults.LabelColumnName;

    /// <summary>Audio column: mono samples at <see cref="AudioFeatureOptions.SampleRate"/> as a vector of Single (default <c>Audio</c>).</summary>
    public string AudioColumnName { get; set; } = Defaults.AudioColumnName;

    /// <summary>The features column the classifier adds and reads (Frames × features per frame Singles) (default <c>AudioFeatures</c>).</summary>
    public string FeatureColumnName { get; set; } = Defaults.FeatureColumnName;

    /// <summary>Frames per utterance, &gt; 0 (default 100 = 1 s at the default 10 ms hop): longer utterances keep their first frames, shorter ones are zero-padded.</summary>
    public int Frames { get; set; } = Defaults.Frames;

    /// <summary>Feature extraction (default: 16 kHz, FFT 400, hop 160, 40 log-mel bins, per-utterance normalisation).</summary>
    public AudioFeatureOptions Features { get; set; } = new();

    /// <summary>
    /// The network body over the spectrogram, fed as (1, <see cref="Frames"/>, features per frame); the trainer appends the
    /// output layer. Null (default) = <see cref="DefaultNetwork"/>.
    /// </summary>
    public Network? Network { get; set; }

    /// <summary>Label smoothing ε in [0, 1) (default 0).</summary>
    public double LabelSmoothing { get; set; }

    /// <summary>Names of the prediction columns (default <c>Score</c>, <c>PredictedLabel</c>).</summary>
    public OutputColumnNames OutputColumns { get; set; } = new();

    /// <summary>
    /// The default body: three 3×3 convolutions (16, 32, 64 filters) each with batch normalisation and ReLU, 2×2 max pooling
    /// after the first two, global average pooling and dropout 0.2 (about 24,000 weights for 40 mel bins).
    /// </summary>
    public static Network DefaultNetwork() => Networks.Network.Create()
        .Conv2d(16, 3, padding: 1).BatchNorm().ReLU().MaxPool2d(2)
        .Conv2d(32, 3, padding: 1).BatchNorm().ReLU().MaxPool2d(2)
        .Conv2d(64, 3, padding: 1).BatchNorm().ReLU()
        .GlobalAveragePool().Dropout(0.2);

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Guard.NotEmpty(LabelColumnName);
        Guard.NotEmpty(AudioColumnName);
        Guard.NotEmpty(FeatureColumnName);
        Guard.Positive(Frames);
        Guard.NotNull(Features).Validate();
        Guard.InRange(LabelSmoothing, 0, 1);
        Guard.NotNull(OutputColumns);
    }

    /// <summary>The options of the core multiclass trainer this classifier runs: every engine setting copied, plus the network.</summary>
    internal NeuralNetworkMulticlassOptions ToNetworkOptions()
    {
        var result = new NeuralNetworkMulticlassOptions();
        foreach (var property in typeof(TrainerOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.CanRead && property.SetMethod is { IsPublic: true })
                property.SetValue(result, property.GetValue(this));
        }
        result.LabelColumnName = LabelColumnName;
        result.FeatureColumnName = FeatureColumnName;
        result.InputShape = [1, Frames, Features.FeaturesPerFrame];
        result.Network = Network ?? DefaultNetwork();
        result.LabelSmoothing = LabelSmoothing;
        result.OutputColumns = OutputColumns;
        return result;
    }
}

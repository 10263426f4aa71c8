using System.Runtime.CompilerServices;
using ML.DeepExtensions.Networks;

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

    /// <summary>Registers the encoders. Runs when this assembly is first used or loaded by a model that names them.</summary>
#pragma warning disable CA2255 // Registering from a module initializer is the point: models naming these architectures load without user code.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        ArchitectureRegistry.Register(RecurrentEncoder, Recurrent);
        ArchitectureRegistry.Register(TransformerEncoder, Transformer);
    }

    private static Network Recurrent(ArchitectureParameters p, int[] inputShape)
        => Network.Create().Add(new RecurrentTextEncoderLayer(
            p.GetEnum("kind", RecurrentKind.Lstm),
            p.GetInt("vocabularySize", 0),
            p.GetInt("dimensions", 64),
            p.GetInt("paddingId", 0),
            p.GetInt("hiddenSize", 64),
            p.GetInt("layers", 1),
            p.GetBool("bidirectional", true),
            p.GetDouble("dropout", 0),
            p.GetEnum("pooling", TextPooling.LastState)));

    private static Network Transformer(ArchitectureParameters p, int[] inputShape)
    {
        var vocabularySize = p.GetInt("vocabularySize", 0);
        var paddingId = p.GetInt("paddingId", 0);
        var maxLength = p.GetInt("maxLength", inputShape[0]);
        var classTokenId = p.GetInt("classTokenId", -1);
        var pooling = p.GetEnum("pooling", TextPooling.ClassToken);
        var network = Network.Create().Add(new TrimPaddingLayer(vocabularySize, paddingId));
        var embeddings = vocabularySize;
        if (pooling == TextPooling.ClassToken && classTokenId < 0)
        {
            // No [CLS] from the tokenizer: a learned one with a new id, in front of every row.
            network = network.Add(new PrependTokenLayer(vocabularySize));
            embeddings++;
            maxLength++;
        }
        return network.Transformer(embeddings, p.GetInt("dimensions", 64), maxLength, paddingId, p.GetInt("layers", 2), p.GetInt("heads", 4),
            p.GetInt("feedForward", 0), p.GetDouble("dropout", 0.1), causal: false,
            pooling: pooling == TextPooling.Mean ? SequencePooling.Mean : SequencePooling.First);
    }
}

using System.Runtime.CompilerServices;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Text.Classification;

namespace ML.DeepExtensions.Text;

/// <summary>Registers the layer kinds of this package in <see cref="LayerRegistry"/> when this assembly is first used or
/// loaded by a network that names them: the Transformer layers, under the JSON names they have had since format version 1,
/// and the layers the text encoder architectures expand to.</summary>
internal static class TextLayers
{
#pragma warning disable CA2255 // Registering from a module initializer is the point: networks naming these layers load without user code.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        LayerRegistry.Register<TokenEmbeddingLayer>("TokenEmbedding");
        LayerRegistry.Register<TransformerBlockLayer>("TransformerBlock");
        LayerRegistry.Register<SequencePoolLayer>("SequencePool");
        LayerRegistry.Register<TransformerLayer>("Transformer");
        LayerRegistry.Register<RecurrentTextEncoderLayer>("RecurrentTextEncoder");
        LayerRegistry.Register<TrimPaddingLayer>("TrimPadding");
        LayerRegistry.Register<PrependTokenLayer>("PrependToken");
        LayerRegistry.Register<BertEncoderLayer>("BertEncoder");
    }
}

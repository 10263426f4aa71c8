using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// One step of a <see cref="Network"/>. Layers are descriptions, not modules: they infer their output shape
/// from their input shape (so no input sizes are typed by hand), serialize to JSON inside model zips, and
/// build the TorchSharp module when a model is trained or loaded. Shapes never include the batch dimension.
/// Every concrete layer class of this assembly is serializable without registration: its JSON <c>type</c> is
/// its class name without the <c>Layer</c> suffix (see <see cref="Persistence.JsonFormat"/>).
/// </summary>
public abstract class Layer
{
    /// <summary>A short human-readable description, e.g. <c>Conv2d(16, 3x3, stride 1, padding 1)</c>.</summary>
    public abstract override string ToString();

    /// <summary>Output shape for <paramref name="input"/>, or <see cref="NetworkShapeException"/> if the layer cannot take it.</summary>
    internal abstract int[] InferOutputShape(int[] input, int index);

    /// <summary>Builds the TorchSharp module for an input of shape <paramref name="input"/>.</summary>
    internal abstract nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context);

    private protected NetworkShapeException ShapeError(int index, int[] input, string expected)
        => new(index, this, input, expected);
}

/// <summary>What a layer needs from the build besides its input shape.</summary>
internal sealed class BuildContext
{
    public BuildContext(Generator generator) => Generator = generator;

    /// <summary>The random generator dropout layers draw from, so that a seed fixes training masks too.</summary>
    public Generator Generator { get; }
}

using System;
using ML.DeepExtensions.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// One step of a <see cref="Network"/>. Layers are descriptions, not modules: they infer their output shape
/// from their input shape (so no input sizes are typed by hand), serialize to JSON inside model zips, and
/// build the TorchSharp module when a model is trained or loaded. Shapes never include the batch dimension.
/// </summary>
/// <remarks>
/// <para>To add a layer kind, derive from this class and register it once under a JSON name with
/// <see cref="LayerRegistry.Register{TLayer}(string)"/> (a package does it from a <c>[ModuleInitializer]</c>):</para>
/// <list type="bullet">
/// <item>Public get-only properties hold the description; a public constructor whose parameter names match them lets
/// the layer be read back from JSON (camelCase property names, enums as strings).</item>
/// <item><see cref="InferOutputShape"/> is the shape rule: it returns the output shape or throws <see cref="ShapeError"/>.</item>
/// <item><see cref="Build"/> creates a fresh TorchSharp module for an input shape the rule accepted; random numbers
/// (dropout masks, augmentation) come from <see cref="BuildContext.Generator"/> so that a training seed fixes them.</item>
/// </list>
/// <para>Layers of the core package are registered from the start; the image layers come with
/// <c>ML.DeepExtensions.Vision</c> and the Transformer layers with <c>ML.DeepExtensions.Text</c>.</para>
/// </remarks>
public abstract class Layer
{
    /// <summary>A short human-readable description, e.g. <c>Conv2d(16, 3x3, stride 1, padding 1)</c>.</summary>
    public abstract override string ToString();

    /// <summary>The shape rule: the output shape of one example of shape <paramref name="input"/>.</summary>
    /// <param name="input">Shape of one input example, without the batch dimension. Do not modify it; return a new array.</param>
    /// <param name="index">Position of the layer in the (flattened) network, for error messages.</param>
    /// <returns>Shape of one output example, without the batch dimension.</returns>
    /// <exception cref="NetworkShapeException">The layer cannot take <paramref name="input"/> (see <see cref="ShapeError"/>).</exception>
    public abstract int[] InferOutputShape(int[] input, int index);

    /// <summary>Builds a new TorchSharp module for inputs of shape <paramref name="input"/> (batch dimension excluded), which
    /// <see cref="InferOutputShape"/> has accepted. The module receives and returns tensors with the batch dimension first.</summary>
    /// <param name="input">Shape of one input example, without the batch dimension.</param>
    /// <param name="context">What the build offers besides the shape: the run's random generator.</param>
    public abstract nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context);

    /// <summary>
    /// The ONNX lowering, declared next to the shape rule: adds the nodes computing this layer in scoring mode (dropout and
    /// augmentation are the identity) from <see cref="OnnxLoweringContext.Input"/>, and returns the name of the output value,
    /// of shape (batch, <see cref="InferOutputShape"/>). Used by <c>ExportToOnnx</c> and by ML.NET's <c>ConvertToOnnx</c>.
    /// The default throws <see cref="NotSupportedException"/> naming the layer: a layer kind without a lowering cannot be exported.
    /// </summary>
    /// <param name="context">The input value, the input shape, the layer's trained weights and the graph being built.</param>
    /// <returns>The name of the ONNX value holding the layer's output.</returns>
    /// <exception cref="NotSupportedException">The layer kind (or this configuration of it) has no ONNX lowering.</exception>
    public virtual string ToOnnx(OnnxLoweringContext context)
        => throw OnnxNotSupported("its layer kind declares no ONNX lowering (override Layer.ToOnnx to add one)");

    /// <summary>The exception <see cref="ToOnnx"/> throws when the layer cannot be exported; the message names the layer,
    /// its registered type name and <paramref name="reason"/>, and says that nothing was written.</summary>
    protected NotSupportedException OnnxNotSupported(string reason)
        => new($"Layer {this} (type '{LayerRegistry.TypeNameOf(GetType()) ?? GetType().Name}') cannot be exported to ONNX: {reason}. No model was written.");

    /// <summary>The exception <see cref="InferOutputShape"/> throws for an input it cannot take; the message names the
    /// layer, its position, the received shape and <paramref name="expected"/>.</summary>
    /// <param name="index">The <c>index</c> given to <see cref="InferOutputShape"/>.</param>
    /// <param name="input">The received shape.</param>
    /// <param name="expected">What the layer needs, e.g. <c>(channels, height, width)</c>.</param>
    protected NetworkShapeException ShapeError(int index, int[] input, string expected)
        => new(index, this, input, expected);
}

/// <summary>What a layer receives from the build besides its input shape (see <see cref="Layer.Build"/>).</summary>
public sealed class BuildContext
{
    internal BuildContext(Generator generator) => Generator = generator;

    /// <summary>The training run's random generator (a CPU generator, seeded from the trainer's seed). Dropout and
    /// augmentation modules draw their random numbers from it, on the CPU, so that a seed fixes them too.</summary>
    public Generator Generator { get; }
}

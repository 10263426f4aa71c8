using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ML.DeepExtensions.Networks;
using TorchSharp;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Onnx;

/// <summary>
/// What a layer receives in <see cref="Layer.ToOnnx"/> to express itself as ONNX nodes: the name of its input value
/// (batch dimension first, dynamic), its input shape without the batch, its trained weights, and methods that add
/// initializers, constants and nodes to the graph being exported.
/// </summary>
/// <remarks>
/// A lowering adds nodes from <see cref="Input"/> and returns the name of the value holding the layer's output, of shape
/// (batch, <see cref="Layer.InferOutputShape"/>). Weights are read from the layer's built module by their state-dict name
/// (<c>weight</c>, <c>bias</c>, <c>running_mean</c>, <c>fc1.weight</c>, …). Check <see cref="OpsetVersion"/> before using an
/// operator newer than opset 11, the oldest this exporter writes.
/// </remarks>
public sealed class OnnxLoweringContext
{
    private readonly OnnxGraphBuilder _graph;
    private readonly nn.Module _module;
    private readonly string _scope;
    private readonly int[] _inputShape;

    internal OnnxLoweringContext(OnnxGraphBuilder graph, Layer layer, nn.Module module, string scope, string input, int[] inputShape)
    {
        _graph = graph;
        Layer = layer;
        _module = module;
        _scope = scope;
        Input = input;
        _inputShape = inputShape;
    }

    /// <summary>The layer being lowered.</summary>
    public Layer Layer { get; }

    /// <summary>The ONNX opset the graph is written for (11 … 21; 17 by default).</summary>
    public int OpsetVersion => _graph.OpsetVersion;

    /// <summary>Name of the ONNX value the layer reads: a float tensor (batch, <see cref="InputShape"/>…).</summary>
    public string Input { get; }

    /// <summary>Shape of one input example, without the batch dimension.</summary>
    public IReadOnlyList<int> InputShape => _inputShape;

    /// <summary>Shape of one output example, without the batch dimension (the layer's shape rule).</summary>
    public IReadOnlyList<int> OutputShape => Layer.InferOutputShape(Shape.Copy(_inputShape), 0);

    /// <summary>A trained tensor of the layer's module by its state-dict name (e.g. <c>weight</c>, <c>fc1.bias</c>).</summary>
    /// <exception cref="KeyNotFoundException">The module has no such tensor; the message lists the names it has.</exception>
    public Tensor Weight(string name)
    {
        Guard.NotEmpty(name);
        var state = _module.state_dict();
        if (state.TryGetValue(name, out var tensor))
            return tensor;
        throw new KeyNotFoundException(
            $"Layer {Layer} has no weight '{name}' to export to ONNX. Its module has: {string.Join(", ", state.Keys.DefaultIfEmpty("(none)"))}.");
    }

    /// <summary>Adds the layer's trained tensor <paramref name="name"/> (see <see cref="Weight"/>) as a float initializer.</summary>
    /// <returns>The name of the initializer in the graph.</returns>
    public string Initializer(string name) => Initializer(name, Weight(name));

    /// <summary>Adds <paramref name="value"/> (any float-convertible tensor, e.g. a transposed weight) as a float initializer.</summary>
    /// <param name="name">A readable suffix; the graph name is scoped by the layer's position and made unique.</param>
    /// <param name="value">The tensor; copied to the CPU as 32-bit floats.</param>
    /// <returns>The name of the initializer in the graph.</returns>
    public string Initializer(string name, Tensor value)
    {
        Guard.NotEmpty(name);
        Guard.NotNull(value);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var cpu = value.detach().to(ScalarType.Float32).to(CPU).contiguous();
        return _graph.AddInitializer(new OnnxTensorRecord($"{_scope}.{name}", OnnxElementType.Float, cpu.shape.ToArray(), Floats: HostCopy.ToArray<float>(cpu)));
    }

    /// <summary>Adds a float constant of shape <paramref name="dims"/> (no dims: a scalar).</summary>
    public string Constant(float[] values, params long[] dims)
    {
        Guard.NotNull(values);
        Guard.NotNull(dims);
        if (dims.Aggregate(1L, (a, d) => a * d) != values.Length)
            throw new ArgumentException($"values must hold as many numbers as dims describe. Received: {values.Length} values, dims=[{string.Join(", ", dims)}]", nameof(values));
        return _graph.AddInitializer(new OnnxTensorRecord($"{_scope}.const", OnnxElementType.Float, dims.ToArray(), Floats: values.ToArray()));
    }

    /// <summary>Adds a one-dimensional 64-bit integer constant (shapes, axes, slice bounds).</summary>
    public string Int64Constant(params long[] values)
    {
        Guard.NotNull(values);
        return _graph.AddInitializer(new OnnxTensorRecord($"{_scope}.const", OnnxElementType.Int64, [values.Length], Longs: values.ToArray()));
    }

    /// <summary>Adds a node with one output.</summary>
    /// <param name="opType">The operator in the default ONNX domain, e.g. <c>Conv</c>.</param>
    /// <param name="inputs">Input value names in the operator's order (an empty string skips an optional input).</param>
    /// <param name="attributes">The node's attributes.</param>
    /// <returns>The name of the output value.</returns>
    public string Node(string opType, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes)
        => Node(opType, inputs, 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs (e.g. <c>LSTM</c>) and returns their names.</summary>
    public IReadOnlyList<string> Node(string opType, IReadOnlyList<string> inputs, int outputs, params OnnxAttribute[] attributes)
    {
        Guard.NotEmpty(opType);
        Guard.NotNull(inputs);
        Guard.Positive(outputs);
        return _graph.AddNode(opType, _scope, inputs, outputs, attributes ?? []);
    }

    /// <summary>
    /// Lowers a sub-network the layer holds (a residual body or shortcut, …) from the child module
    /// <paramref name="childModule"/> of the layer's module, which <see cref="Network.Build"/> built for it.
    /// </summary>
    /// <returns>The name of the sub-network's output value.</returns>
    public string Lower(Network network, string input, IReadOnlyList<int> inputShape, string childModule)
    {
        Guard.NotNull(network);
        Guard.NotEmpty(input);
        Guard.NotNull(inputShape);
        var child = _module.named_children().FirstOrDefault(c => c.name == childModule).module
            ?? throw new KeyNotFoundException($"Layer {Layer} has no child module '{childModule}' to export to ONNX.");
        return OnnxNetworkLowering.Lower(_graph, network, child, $"{_scope}.{childModule}", input, inputShape.ToArray());
    }

    /// <summary>Adds an activation function of <paramref name="kind"/> over <paramref name="input"/> (shape unchanged; softmax over the last dimension).</summary>
    public string Activation(ActivationKind kind, string input, double negativeSlope = 0.01)
    {
        switch (kind)
        {
            case ActivationKind.ReLU:
                return Node("Relu", [input]);
            case ActivationKind.LeakyReLU:
                return Node("LeakyRelu", [input], OnnxAttribute.Float("alpha", (float)negativeSlope));
            case ActivationKind.Sigmoid:
                return Node("Sigmoid", [input]);
            case ActivationKind.Tanh:
                return Node("Tanh", [input]);
            case ActivationKind.Softmax:
                return Node("Softmax", [input], OnnxAttribute.Int("axis", -1));
            case ActivationKind.GELU:
            {
                // PyTorch's exact GELU: x · ½ · (1 + erf(x / √2)); the Gelu operator exists only from opset 20.
                var scaled = Node("Mul", [input, Constant([(float)(1 / Math.Sqrt(2))])]);
                var erf = Node("Erf", [scaled]);
                var onePlus = Node("Add", [erf, Constant([1f])]);
                var half = Node("Mul", [input, Constant([0.5f])]);
                return Node("Mul", [half, onePlus]);
            }
            case ActivationKind.SiLU:
                return Node("Mul", [input, Node("Sigmoid", [input])]);
            case ActivationKind.ReLU6:
                return Node("Clip", [input, Constant([0f]), Constant([6f])]);
            case ActivationKind.Hardswish:
                return OpsetVersion >= 14
                    ? Node("HardSwish", [input])
                    : Node("Mul", [input, Node("HardSigmoid", [input], OnnxAttribute.Float("alpha", 1f / 6), OnnxAttribute.Float("beta", 0.5f))]);
            default:
                throw new NotSupportedException($"Activation {kind} has no ONNX lowering.");
        }
    }

    /// <summary>Mean over <paramref name="axes"/> (axes as an input from opset 18, as an attribute before).</summary>
    public string ReduceMean(string input, IReadOnlyList<long> axes, bool keepDims)
    {
        Guard.NotNull(axes);
        var keep = OnnxAttribute.Int("keepdims", keepDims ? 1 : 0);
        return OpsetVersion >= 18
            ? Node("ReduceMean", [input, Int64Constant(axes.ToArray())], keep)
            : Node("ReduceMean", [input], OnnxAttribute.Ints("axes", axes.ToArray()), keep);
    }

    /// <summary>Reshapes every example of <paramref name="input"/> to <paramref name="shape"/>, keeping the (dynamic) batch dimension.</summary>
    public string ReshapeExamples(string input, IReadOnlyList<int> shape)
    {
        Guard.NotNull(shape);
        return Node("Reshape", [input, Int64Constant([0L, .. shape.Select(d => (long)d)])]);
    }

    /// <summary>A position-scoped description for messages.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Layer} at {_scope}");
}

/// <summary>Lowers a network layer by layer, walking the module tree <see cref="Network.Build"/> built for it.</summary>
internal static class OnnxNetworkLowering
{
    public static string Lower(OnnxGraphBuilder graph, Network network, nn.Module module, string scope, string input, int[] inputShape)
    {
        var expanded = network.Expand(inputShape);
        var children = module.named_children().ToDictionary(c => c.name, c => c.module, StringComparer.Ordinal);
        var value = input;
        for (var i = 0; i < expanded.Count; i++)
        {
            var (layer, shape, _) = expanded[i];
            var key = i.ToString(CultureInfo.InvariantCulture);
            if (!children.TryGetValue(key, out var child))
                throw new InvalidOperationException($"The built network has no module '{key}' for layer {layer}; the weights do not match the description.");
            var context = new OnnxLoweringContext(graph, layer, child, scope.Length == 0 ? key : $"{scope}.{key}", value, shape);
            value = layer.ToOnnx(context);
        }
        return value;
    }
}

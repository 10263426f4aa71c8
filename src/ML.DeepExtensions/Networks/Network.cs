using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>One row of <see cref="Network.Describe"/>: a layer, the shape it outputs and its parameter count.</summary>
/// <param name="Layer">The layer (architectures appear expanded).</param>
/// <param name="OutputShape">Shape of one example after the layer, without the batch dimension.</param>
/// <param name="Parameters">Number of learned values in the layer.</param>
public sealed record LayerDescription(Layer Layer, int[] OutputShape, long Parameters);

/// <summary>
/// A network described as data: an immutable list of <see cref="Layer"/>s with shape inference. Build it
/// fluently (<c>Network.Create().Reshape(1, 8, 8).Conv2d(16, 3, padding: 1).ReLU().MaxPool2d(2).Flatten().Dense(64).ReLU()</c>);
/// trainers append the output layer for their task. Serializes to JSON, which is what model zips store
/// next to the weights.
/// </summary>
public sealed class Network
{
    private static readonly JsonSerializerOptions Json = JsonFormat.Options;

    /// <summary>Creates a network from layers.</summary>
    [JsonConstructor]
    public Network(IReadOnlyList<Layer> layers)
    {
        Guard.NotNull(layers);
        if (layers.Any(l => l is null))
            throw new ArgumentException("layers must not contain null.", nameof(layers));
        Layers = layers.ToArray();
    }

    /// <summary>The layers in order.</summary>
    public IReadOnlyList<Layer> Layers { get; }

    /// <summary>An empty network (the identity).</summary>
    public static Network Create() => new(Array.Empty<Layer>());

    /// <summary>A multi-layer perceptron from the built-in <c>Mlp</c> architecture; arguments left null take the defaults of <see cref="MlpParameters"/>.</summary>
    /// <param name="hiddenUnits">Units per hidden layer.</param>
    /// <param name="activation">Activation after each hidden layer.</param>
    /// <param name="dropout">Dropout after each activation in [0, 1).</param>
    /// <param name="batchNorm">Batch normalization after each hidden Dense layer.</param>
    public static Network Mlp(int[]? hiddenUnits = null, ActivationKind? activation = null, double? dropout = null, bool? batchNorm = null)
    {
        var p = new MlpParameters();
        p.Hidden = hiddenUnits ?? p.Hidden;
        p.Activation = activation ?? p.Activation;
        p.Dropout = dropout ?? p.Dropout;
        p.BatchNorm = batchNorm ?? p.BatchNorm;
        foreach (var units in p.Hidden)
            Guard.Positive(units, nameof(hiddenUnits));
        Guard.InRange(p.Dropout, 0, 1, name: nameof(dropout));
        return Create().Architecture("Mlp", ArchitectureParameters.From(p).Values);
    }

    /// <summary>A copy with <paramref name="layer"/> appended.</summary>
    public Network Add(Layer layer) => new(Layers.Append(Guard.NotNull(layer)).ToArray());

    /// <summary>Appends a <see cref="DenseLayer"/>.</summary>
    public Network Dense(int units, bool useBias = true) => Add(new DenseLayer(units, useBias));
    /// <summary>Appends a 1-D <see cref="ConvolutionLayer"/> over (channels, length).</summary>
    public Network Conv1d(int filters, int kernelSize, int stride = 1, int padding = 0) => Add(new ConvolutionLayer(1, filters, kernelSize, stride, padding));
    /// <summary>Appends a 2-D <see cref="ConvolutionLayer"/> over (channels, height, width); <paramref name="groups"/> = channels makes it depthwise.</summary>
    public Network Conv2d(int filters, int kernelSize, int stride = 1, int padding = 0, int groups = 1, bool useBias = true)
        => Add(new ConvolutionLayer(2, filters, kernelSize, stride, padding, groups, useBias));
    /// <summary>Appends 1-D max pooling (stride defaults to the kernel size).</summary>
    public Network MaxPool1d(int kernelSize, int stride = 0) => Add(new PoolingLayer(PoolingKind.Max, 1, kernelSize, stride));
    /// <summary>Appends 2-D max pooling (stride defaults to the kernel size).</summary>
    public Network MaxPool2d(int kernelSize, int stride = 0, int padding = 0) => Add(new PoolingLayer(PoolingKind.Max, 2, kernelSize, stride, padding));
    /// <summary>Appends 1-D average pooling (stride defaults to the kernel size).</summary>
    public Network AvgPool1d(int kernelSize, int stride = 0) => Add(new PoolingLayer(PoolingKind.Average, 1, kernelSize, stride));
    /// <summary>Appends 2-D average pooling (stride defaults to the kernel size).</summary>
    public Network AvgPool2d(int kernelSize, int stride = 0, int padding = 0) => Add(new PoolingLayer(PoolingKind.Average, 2, kernelSize, stride, padding));
    /// <summary>Appends a <see cref="GlobalAveragePoolLayer"/>.</summary>
    public Network GlobalAveragePool() => Add(new GlobalAveragePoolLayer());
    /// <summary>Appends a <see cref="FlattenLayer"/>.</summary>
    public Network Flatten() => Add(new FlattenLayer());
    /// <summary>Appends a <see cref="ReshapeLayer"/>.</summary>
    public Network Reshape(params int[] shape) => Add(new ReshapeLayer(shape));
    /// <summary>Appends a <see cref="BatchNormLayer"/>.</summary>
    public Network BatchNorm(double momentum = 0.1, double epsilon = 1e-5) => Add(new BatchNormLayer(momentum, epsilon));
    /// <summary>Appends a <see cref="LayerNormLayer"/>.</summary>
    public Network LayerNorm(double epsilon = 1e-5) => Add(new LayerNormLayer(epsilon));
    /// <summary>Appends a <see cref="DropoutLayer"/>.</summary>
    public Network Dropout(double rate) => Add(new DropoutLayer(rate));
    /// <summary>Appends an <see cref="EmbeddingLayer"/>.</summary>
    public Network Embedding(int vocabularySize, int dimensions) => Add(new EmbeddingLayer(vocabularySize, dimensions));
    /// <summary>Appends an LSTM <see cref="RecurrentLayer"/>.</summary>
    public Network Lstm(int hiddenSize, int layers = 1, bool bidirectional = false, bool returnSequences = false, double dropout = 0)
        => Add(new RecurrentLayer(RecurrentKind.Lstm, hiddenSize, layers, bidirectional, returnSequences, dropout));
    /// <summary>Appends a GRU <see cref="RecurrentLayer"/>.</summary>
    public Network Gru(int hiddenSize, int layers = 1, bool bidirectional = false, bool returnSequences = false, double dropout = 0)
        => Add(new RecurrentLayer(RecurrentKind.Gru, hiddenSize, layers, bidirectional, returnSequences, dropout));
    /// <summary>Appends ReLU.</summary>
    public Network ReLU() => Add(new ActivationLayer(ActivationKind.ReLU));
    /// <summary>Appends LeakyReLU.</summary>
    public Network LeakyReLU(double negativeSlope = 0.01) => Add(new ActivationLayer(ActivationKind.LeakyReLU, negativeSlope));
    /// <summary>Appends Sigmoid.</summary>
    public Network Sigmoid() => Add(new ActivationLayer(ActivationKind.Sigmoid));
    /// <summary>Appends Tanh.</summary>
    public Network Tanh() => Add(new ActivationLayer(ActivationKind.Tanh));
    /// <summary>Appends Softmax over the last dimension.</summary>
    public Network Softmax() => Add(new ActivationLayer(ActivationKind.Softmax));
    /// <summary>Appends GELU.</summary>
    public Network GELU() => Add(new ActivationLayer(ActivationKind.GELU));
    /// <summary>Appends SiLU.</summary>
    public Network SiLU() => Add(new ActivationLayer(ActivationKind.SiLU));
    /// <summary>Appends a registered architecture by name.</summary>
    public Network Architecture(string name, IReadOnlyDictionary<string, string>? parameters = null) => Add(new ArchitectureLayer(name, parameters));
    /// <summary>Appends a <see cref="ResidualLayer"/>: activation(body(x) + (shortcut ?? identity)(x)).</summary>
    public Network Residual(Network body, Network? shortcut = null, ActivationKind? activation = null, double dropPath = 0)
        => Add(new ResidualLayer(body, shortcut, activation, dropPath));
    /// <summary>Appends a <see cref="SqueezeExcitationLayer"/>.</summary>
    public Network SqueezeExcitation(int squeezeChannels, ActivationKind activation = ActivationKind.ReLU) => Add(new SqueezeExcitationLayer(squeezeChannels, activation));
    /// <summary>Appends an <see cref="AdaptiveAveragePoolLayer"/> to an outputSize × outputSize grid.</summary>
    public Network AdaptiveAvgPool2d(int outputSize) => Add(new AdaptiveAveragePoolLayer(outputSize));
    /// <summary>Appends ReLU6.</summary>
    public Network ReLU6() => Add(new ActivationLayer(ActivationKind.ReLU6));
    /// <summary>Appends Hardswish.</summary>
    public Network Hardswish() => Add(new ActivationLayer(ActivationKind.Hardswish));

    /// <summary>Output shape of one example of shape <paramref name="inputShape"/>.</summary>
    /// <exception cref="NetworkShapeException">A layer cannot take the shape it receives.</exception>
    public int[] OutputShape(params int[] inputShape) => DescribeCore(inputShape, countParameters: false).LastOrDefault()?.OutputShape ?? Shape.Copy(inputShape);

    /// <summary>Every layer (architectures expanded) with its output shape and parameter count.</summary>
    public IReadOnlyList<LayerDescription> Describe(params int[] inputShape) => DescribeCore(inputShape, countParameters: true);

    /// <summary>A printable table of layers, output shapes and parameter counts, like Keras' <c>summary()</c>.</summary>
    public string Summary(params int[] inputShape)
    {
        var rows = Describe(inputShape);
        var text = new StringBuilder();
        var width = Math.Max(24, rows.Select(r => r.Layer.ToString().Length).DefaultIfEmpty(0).Max() + 2);
        text.AppendLine(CultureInfo.InvariantCulture, $"{"Layer".PadRight(width)}{"Output shape",-20}{"Parameters",12}");
        text.AppendLine(new string('-', width + 32));
        text.AppendLine(CultureInfo.InvariantCulture, $"{"Input".PadRight(width)}{Shape.Format(inputShape),-20}{0,12:N0}");
        foreach (var row in rows)
            text.AppendLine(CultureInfo.InvariantCulture, $"{row.Layer.ToString().PadRight(width)}{Shape.Format(row.OutputShape),-20}{row.Parameters,12:N0}");
        text.AppendLine(new string('-', width + 32));
        text.Append(CultureInfo.InvariantCulture, $"Total parameters: {rows.Sum(r => r.Parameters):N0}");
        return text.ToString();
    }

    /// <summary>The network as JSON (what model zips store).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a network written by <see cref="ToJson"/>.</summary>
    /// <exception cref="FormatException">The text is not a valid network description.</exception>
    public static Network FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<Network>(json, Json) ?? throw new FormatException("The network description is empty.");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException)
        {
            throw new FormatException($"The network description is not valid: {ex.Message}", ex);
        }
    }

    /// <summary>The layers with every architecture replaced by its own layers, recursively.</summary>
    internal IReadOnlyList<(Layer Layer, int[] Input, int[] Output)> Expand(int[] inputShape)
    {
        var result = new List<(Layer, int[], int[])>();
        var shape = Shape.Copy(inputShape);
        foreach (var layer in Layers)
        {
            if (layer is ArchitectureLayer architecture)
            {
                var expanded = architecture.Expand(shape).Expand(shape);
                result.AddRange(expanded.Select(e => (e.Layer, e.Input, e.Output)));
                if (expanded.Count > 0)
                    shape = expanded[^1].Output;
                continue;
            }
            var output = layer.InferOutputShape(shape, result.Count);
            result.Add((layer, shape, output));
            shape = output;
        }
        return result;
    }

    /// <summary>Builds the TorchSharp module for examples of shape <paramref name="inputShape"/> (batch dimension excluded):
    /// one child module per layer, architectures expanded, in a <c>Sequential</c> (see <see cref="LayerSequence"/>). Composite layers call it from their own
    /// <see cref="Layer.Build"/> to build the networks they hold, passing the <paramref name="context"/> they received.</summary>
    /// <exception cref="NetworkShapeException">A layer cannot take the shape it receives.</exception>
    public nn.Module<Tensor, Tensor> Build(int[] inputShape, BuildContext context)
    {
        Guard.NotNull(inputShape);
        Guard.NotNull(context);
        lock (GlobalGeneratorLock)
        {
            var layers = Expand(inputShape)
                .Select((e, i) => (i.ToString(CultureInfo.InvariantCulture), e.Layer.Build(e.Input, context), MixedPrecisionRule.For(e.Layer, e.Input, e.Output)))
                .ToArray();
            return new LayerSequence(layers);
        }
    }

    /// <summary>
    /// Held while modules are constructed: TorchSharp's module constructors draw their initial weights from torch's
    /// process-wide generator, so a training seeds that generator and builds under this lock, and every other construction
    /// (<see cref="Build"/>, parameter counting) waits for it. Without it, a <see cref="Summary"/> on one thread took draws
    /// from another thread's seeded initialisation: concurrent trainings of one seed started from different weights
    /// (2026-12-02, 6 of 2,549 two-thread trainings). The lock is re-entrant, so composite layers build inside it.
    /// </summary>
    internal static readonly object GlobalGeneratorLock = new();

    private IReadOnlyList<LayerDescription> DescribeCore(int[] inputShape, bool countParameters)
    {
        Guard.NotNull(inputShape);
        if (inputShape.Length == 0 || inputShape.Any(d => d <= 0))
            throw new ArgumentException($"inputShape must have positive dimensions. Received: inputShape={Shape.Format(inputShape)}", nameof(inputShape));
        var expanded = Expand(inputShape);
        if (!countParameters)
            return expanded.Select(e => new LayerDescription(e.Layer, e.Output, 0)).ToArray();

        Runtime.TorchRuntime.EnsureInitialized();
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(0);
        var context = new BuildContext(generator);
        // Counting builds throw-away modules; their draws are given back, so describing a network leaves torch's
        // process-wide generator where it was.
        lock (GlobalGeneratorLock)
        {
            using var state = torch.random.get_rng_state();
            try
            {
                return expanded.Select(e =>
                {
                    using var module = e.Layer.Build(e.Input, context);
                    return new LayerDescription(e.Layer, e.Output, module.parameters().Sum(p => p.numel()));
                }).ToArray();
            }
            finally
            {
                torch.random.set_rng_state(state);
            }
        }
    }
}

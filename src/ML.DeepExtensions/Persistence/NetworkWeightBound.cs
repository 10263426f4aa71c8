using System;
using System.Collections.Generic;
using ML.DeepExtensions.Networks;

namespace ML.DeepExtensions.Persistence;

/// <summary>
/// How many bytes the weights of a network must at least take, computed from its description alone, before anything is
/// built: building allocates and initializes every parameter, so a model zip whose header describes a 2 GB network over a
/// 10 KB weights stream would otherwise allocate 2 GB before failing (and a 1 TB one fail inside libtorch). The bound is
/// exact for the layer kinds of the core package (Dense, Convolution, Embedding, LSTM/GRU, BatchNorm, LayerNorm, and the
/// Residual and SqueezeExcitation composites over them) and counts 0 for kinds it does not know; other packages add theirs
/// with <see cref="Register{TLayer}"/>. <c>NetworkWeightBoundTests</c> checks each kind against a built module.
/// </summary>
internal static class NetworkWeightBound
{
    private static readonly Dictionary<Type, Func<Layer, int[], long>> Registered = [];
    private static readonly object Lock = new();

    /// <summary>Adds the bound of a layer kind from another package: bytes of its state for <c>input</c> (its input shape).</summary>
    public static void Register<TLayer>(Func<TLayer, int[], long> bytes) where TLayer : Layer
    {
        lock (Lock)
            Registered[typeof(TLayer)] = (layer, input) => bytes((TLayer)layer, input);
    }

    /// <summary>A lower bound of the bytes of <paramref name="network"/>'s state for <paramref name="inputShape"/>
    /// (<see cref="long.MaxValue"/> when it overflows), after its shapes were checked.</summary>
    public static long LowerBound(Network network, int[] inputShape)
    {
        try
        {
            return checked(Sum(network, inputShape));
        }
        catch (OverflowException)
        {
            return long.MaxValue;
        }
    }

    private static long Sum(Network network, int[] inputShape)
    {
        long total = 0;
        foreach (var (layer, input, _) in network.Expand(inputShape))
            total = checked(total + Of(layer, input));
        return total;
    }

    private static long Of(Layer layer, int[] input) => layer switch
    {
        DenseLayer d => Floats((long)d.Units * input[^1] + (d.UseBias ? d.Units : 0)),
        ConvolutionLayer c => Floats(checked((long)c.Filters * (input[0] / c.Groups) * Power(c.KernelSize, c.Dimensions) + (c.UseBias ? c.Filters : 0))),
        EmbeddingLayer e => Floats((long)e.VocabularySize * e.Dimensions),
        RecurrentLayer r => Floats(Recurrent(r, input[1])),
        BatchNormLayer => checked(Floats(4L * input[0]) + sizeof(long)), // weight, bias, running mean and variance; an Int64 counter
        LayerNormLayer => Floats(2L * input[^1]),
        ResidualLayer r => checked(Sum(r.Body, input) + (r.Shortcut is null ? 0 : Sum(r.Shortcut, input))),
        SqueezeExcitationLayer s => Floats(checked(2L * s.SqueezeChannels * input[0] + s.SqueezeChannels + input[0])),
        _ => OfRegistered(layer, input),
    };

    private static long OfRegistered(Layer layer, int[] input)
    {
        Func<Layer, int[], long>? bound;
        lock (Lock)
            Registered.TryGetValue(layer.GetType(), out bound);
        return bound?.Invoke(layer, input) ?? 0;
    }

    /// <summary>Weights and biases of an LSTM (4 gates) or GRU (3 gates), per layer and direction, as PyTorch lays them out.</summary>
    private static long Recurrent(RecurrentLayer r, long inputSize)
    {
        long gates = (r.Kind == RecurrentKind.Lstm ? 4 : 3) * (long)r.HiddenSize;
        long directions = r.Bidirectional ? 2 : 1;
        long total = 0;
        for (var l = 0; l < r.Layers; l++)
        {
            var width = l == 0 ? inputSize : directions * r.HiddenSize;
            total = checked(total + directions * (gates * width + gates * r.HiddenSize + 2 * gates));
        }
        return total;
    }

    /// <summary>Bytes of <paramref name="count"/> Single values.</summary>
    public static long Floats(long count) => checked(count * sizeof(float));

    private static long Power(long value, int exponent)
    {
        long result = 1;
        for (var i = 0; i < exponent; i++)
            result = checked(result * value);
        return result;
    }
}

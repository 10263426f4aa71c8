using System;

namespace ML.DeepExtensions.Networks;

/// <summary>Thrown when a layer of a <see cref="Network"/> cannot accept the shape produced by the layers before it.</summary>
public sealed class NetworkShapeException : ArgumentException
{
    internal NetworkShapeException(int layerIndex, Layer layer, int[] received, string expected)
        : base($"Layer {layerIndex} ({layer}) expects input {expected}; received {Shape.Format(received)} (batch dimension excluded).")
    {
        LayerIndex = layerIndex;
    }

    /// <summary>Zero-based position of the failing layer in the flattened network.</summary>
    public int LayerIndex { get; }
}

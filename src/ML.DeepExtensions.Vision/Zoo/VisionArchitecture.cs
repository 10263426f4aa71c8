using System.Collections.Generic;
using ML.DeepExtensions.Networks;

namespace ML.DeepExtensions.Vision.Zoo;

/// <summary>
/// The input contract of a registered vision architecture: what images it expects and how they are normalised.
/// Resizing and normalisation are applied from this record identically in training and scoring.
/// </summary>
/// <param name="Name">The registry name, e.g. <c>ResNet18</c> (case-insensitive in the registry).</param>
/// <param name="Channels">Image channels with default parameters (3 = RGB, 1 = grey). The <c>channels</c> parameter changes it.</param>
/// <param name="Height">Height in pixels the reference was designed and trained for.</param>
/// <param name="Width">Width in pixels the reference was designed and trained for.</param>
/// <param name="MinimumSize">Smallest height and width the network accepts with default parameters; smaller images
/// raise a <see cref="NetworkShapeException"/> naming the architecture and this size.</param>
/// <param name="Mean">Per-channel mean subtracted from pixel values scaled to [0, 1].</param>
/// <param name="Std">Per-channel standard deviation the centred values are divided by.</param>
/// <param name="Reference">The definition the default structure reproduces, layer for layer and tensor for tensor.</param>
/// <param name="Parameters">The architecture parameters by stored name, each with its meaning and default, generated from the
/// architecture's parameter class (e.g. <see cref="ResNetParameters"/>).</param>
public sealed record VisionArchitecture(
    string Name,
    int Channels,
    int Height,
    int Width,
    int MinimumSize,
    IReadOnlyList<float> Mean,
    IReadOnlyList<float> Std,
    string Reference,
    IReadOnlyDictionary<string, string> Parameters)
{
    /// <summary>A network made of this architecture with the given parameters (missing ones take their defaults).
    /// The trainer appends the classification layer.</summary>
    public Network CreateNetwork(IReadOnlyDictionary<string, string>? parameters = null) => Network.Create().Architecture(Name, parameters);
}

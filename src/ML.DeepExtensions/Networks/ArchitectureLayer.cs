using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// A named architecture from <see cref="ArchitectureRegistry"/>, expanded into its layers for the input it
/// receives. Only the name and parameters are persisted.
/// </summary>
public sealed class ArchitectureLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">A registered architecture name.</param>
    /// <param name="parameters">Its parameters as invariant-culture strings; missing ones take the builder's defaults.</param>
    public ArchitectureLayer(string name, IReadOnlyDictionary<string, string>? parameters = null)
    {
        Name = Guard.NotEmpty(name);
        Parameters = new ArchitectureParameters(parameters).Values;
    }

    /// <summary>The registered name.</summary>
    public string Name { get; }

    /// <summary>The parameters.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    /// <inheritdoc />
    public override string ToString() => Parameters.Count == 0 ? Name : $"{Name}({string.Join(", ", Parameters)})";

    internal Network Expand(int[] input) => ArchitectureRegistry.Expand(Name, new ArchitectureParameters(Parameters), input);

    internal override int[] InferOutputShape(int[] input, int index) => Expand(input).OutputShape(input);

    internal override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => Expand(input).Build(input, context);
}

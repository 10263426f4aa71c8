using System.Collections.Generic;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// A named architecture from <see cref="ArchitectureRegistry"/>, expanded into its layers for the input it
/// receives. Only the name, the parameters and the simple name of the assembly that registered the builder are
/// persisted; the assembly is loaded by name when a model naming the architecture is loaded in a process where
/// it is not registered yet.
/// </summary>
public sealed class ArchitectureLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">A registered architecture name.</param>
    /// <param name="parameters">Its parameters as invariant-culture strings; missing ones take the builder's defaults.</param>
    /// <param name="assembly">Simple name of the assembly that registers the builder (e.g. <c>ML.DeepExtensions.Vision</c>);
    /// <c>null</c> (default) takes it from the registry when the name is registered there.</param>
    public ArchitectureLayer(string name, IReadOnlyDictionary<string, string>? parameters = null, string? assembly = null)
    {
        Name = Guard.NotEmpty(name);
        Parameters = new ArchitectureParameters(parameters).Values;
        Assembly = string.IsNullOrWhiteSpace(assembly) ? ArchitectureRegistry.AssemblyOf(name) : assembly;
    }

    /// <summary>The registered name.</summary>
    public string Name { get; }

    /// <summary>The parameters.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>Simple name of the assembly that registers the builder; <c>null</c> for the core package's built-ins
    /// and for architectures unknown when the layer was created.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Assembly { get; }

    /// <inheritdoc />
    public override string ToString() => Parameters.Count == 0 ? Name : $"{Name}({string.Join(", ", Parameters)})";

    internal Network Expand(int[] input) => ArchitectureRegistry.Expand(Name, Assembly, new ArchitectureParameters(Parameters), input);

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index) => Expand(input).OutputShape(input);

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => Expand(input).Build(input, context);
}

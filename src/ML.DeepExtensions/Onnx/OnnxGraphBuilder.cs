using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ML.DeepExtensions.Onnx;

/// <summary>ONNX tensor element types used by the exporter (onnx.proto's <c>TensorProto.DataType</c>).</summary>
internal enum OnnxElementType
{
    Float = 1,
    Int64 = 7,
    String = 8,
    Bool = 9,
}

/// <summary>One node of the graph in progress.</summary>
internal sealed record OnnxNodeRecord(string OpType, string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs, IReadOnlyList<OnnxAttribute> Attributes);

/// <summary>One initializer (constant tensor) of the graph in progress.</summary>
internal sealed record OnnxTensorRecord(string Name, OnnxElementType Type, long[] Dims, float[]? Floats = null, long[]? Longs = null, string[]? Strings = null);

/// <summary>A graph input or output: name, element type and shape (a null entry is the dynamic batch dimension).</summary>
internal sealed record OnnxValueRecord(string Name, OnnxElementType Type, IReadOnlyList<long?> Shape, string? DimensionName = "batch");

/// <summary>
/// A graph in progress, independent of how it is written: <see cref="OnnxModelWriter"/> writes it as a standalone
/// ONNX model, and the ML.NET pipeline export replays its nodes into ML.NET's own ONNX context.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);

    public OnnxGraphBuilder(int opsetVersion) => OpsetVersion = opsetVersion;

    public int OpsetVersion { get; }

    public List<OnnxNodeRecord> Nodes { get; } = [];

    public List<OnnxTensorRecord> Initializers { get; } = [];

    public List<OnnxValueRecord> Inputs { get; } = [];

    public List<OnnxValueRecord> Outputs { get; } = [];

    /// <summary>Marks <paramref name="name"/> as used (graph inputs, names chosen by the caller).</summary>
    public string Reserve(string name)
    {
        if (!_names.Add(name))
            throw new InvalidOperationException($"ONNX value name '{name}' is used twice.");
        return name;
    }

    /// <summary>A name starting with <paramref name="prefix"/> not used before in this graph.</summary>
    public string UniqueName(string prefix)
    {
        if (_names.Add(prefix))
            return prefix;
        var n = _counters.GetValueOrDefault(prefix);
        string candidate;
        do
            candidate = string.Create(CultureInfo.InvariantCulture, $"{prefix}_{++n}");
        while (!_names.Add(candidate));
        _counters[prefix] = n;
        return candidate;
    }

    public string AddInitializer(OnnxTensorRecord tensor)
    {
        var name = UniqueName(tensor.Name);
        Initializers.Add(tensor with { Name = name });
        return name;
    }

    public IReadOnlyList<string> AddNode(string opType, string scope, IReadOnlyList<string> inputs, int outputs, IReadOnlyList<OnnxAttribute> attributes, IReadOnlyList<string>? outputNames = null)
    {
        var nodeName = UniqueName($"{scope}/{opType}");
        var outputList = outputNames ?? Enumerable.Range(0, outputs).Select(i => UniqueName(outputs == 1 ? $"{scope}/{opType}_out" : $"{scope}/{opType}_out{i}")).ToArray();
        Nodes.Add(new OnnxNodeRecord(opType, nodeName, inputs.ToArray(), outputList.ToArray(), attributes.ToArray()));
        return outputList;
    }
}

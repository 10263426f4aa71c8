using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Google.Protobuf;

namespace ML.DeepExtensions.Pretrained;

/// <summary>
/// The parts of an ONNX model that weight import needs — nodes (operator, inputs, outputs, attributes) and
/// float initializers — read field by field with Google.Protobuf's <see cref="CodedInputStream"/> following
/// onnx.proto's field numbers, so no generated code or onnx package is needed. Shared by the importers of the
/// family's packages (the vision package's ResNet-18, the text package's BERT encoders).
/// </summary>
internal sealed class OnnxGraph
{
    private OnnxGraph(long irVersion, IReadOnlyList<OnnxNode> nodes, IReadOnlyDictionary<string, OnnxInitializer> initializers)
    {
        IrVersion = irVersion;
        Nodes = nodes;
        Initializers = initializers;
    }

    public long IrVersion { get; }

    public IReadOnlyList<OnnxNode> Nodes { get; }

    public IReadOnlyDictionary<string, OnnxInitializer> Initializers { get; }

    public static OnnxGraph Read(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream);
    }

    /// <summary>Reads a model from a stream (e.g. an assembly resource); the stream is not disposed.</summary>
    public static OnnxGraph Read(Stream stream)
    {
        var input = new CodedInputStream(stream, leaveOpen: true);
        long irVersion = 0;
        OnnxGraph? graph = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                    irVersion = input.ReadInt64();
                    break;
                case 7:
                    graph = ReadGraph(input.ReadBytes(), irVersion);
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return graph ?? throw new InvalidDataException("The file holds no ONNX graph.");
    }

    private static OnnxGraph ReadGraph(ByteString bytes, long irVersion)
    {
        var input = bytes.CreateCodedInput();
        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxInitializer>(StringComparer.Ordinal);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                    nodes.Add(ReadNode(input.ReadBytes()));
                    break;
                case 5:
                    var tensor = ReadTensor(input.ReadBytes());
                    initializers[tensor.Name] = tensor;
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return new OnnxGraph(irVersion, nodes, initializers);
    }

    private static OnnxNode ReadNode(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var floats = new Dictionary<string, float>(StringComparer.Ordinal);
        string name = "", op = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: inputs.Add(input.ReadString()); break;
                case 2: outputs.Add(input.ReadString()); break;
                case 3: name = input.ReadString(); break;
                case 4: op = input.ReadString(); break;
                case 5:
                    var (attributeName, ints, f) = ReadAttribute(input.ReadBytes());
                    if (ints is not null)
                        attributes[attributeName] = ints;
                    if (f is not null)
                        floats[attributeName] = f.Value;
                    break;
                default: input.SkipLastField(); break;
            }
        }
        return new OnnxNode(name, op, inputs, outputs, attributes, floats);
    }

    private static (string Name, long[]? Ints, float? Float) ReadAttribute(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        string name = "";
        var ints = new List<long>();
        long? single = null;
        float? f = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: name = input.ReadString(); break;
                case 2: f = input.ReadFloat(); break;
                case 3: single = input.ReadInt64(); break;
                case 5:
                    // A tensor attribute (a Constant's value): kept when it is one float.
                    if (ReadTensor(input.ReadBytes()) is { Values: [var scalar] })
                        f = scalar;
                    break;
                case 8:
                    if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                        ints.AddRange(ReadPackedInt64(input.ReadBytes()));
                    else
                        ints.Add(input.ReadInt64());
                    break;
                default: input.SkipLastField(); break;
            }
        }
        long[]? values = ints.Count > 0 ? ints.ToArray() : single is { } s ? [s] : null;
        return (name, values, f);
    }

    private static OnnxInitializer ReadTensor(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        var dims = new List<long>();
        var floats = new List<float>();
        var longs = new List<long>();
        int dataType = 0;
        string name = "";
        ByteString? raw = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                    if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                        dims.AddRange(ReadPackedInt64(input.ReadBytes()));
                    else
                        dims.Add(input.ReadInt64());
                    break;
                case 2: dataType = input.ReadInt32(); break;
                case 4:
                    if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                    {
                        var packed = input.ReadBytes().Span;
                        for (var i = 0; i + 4 <= packed.Length; i += 4)
                            floats.Add(BitConverter.ToSingle(packed.Slice(i, 4)));
                    }
                    else
                        floats.Add(input.ReadFloat());
                    break;
                case 7:
                    if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                        longs.AddRange(ReadPackedInt64(input.ReadBytes()));
                    else
                        longs.Add(input.ReadInt64());
                    break;
                case 8: name = input.ReadString(); break;
                case 9: raw = input.ReadBytes(); break;
                default: input.SkipLastField(); break;
            }
        }
        float[]? values = null;
        if (dataType == 1) // FLOAT
        {
            if (raw is not null && raw.Length > 0)
            {
                values = new float[raw.Length / 4];
                Buffer.BlockCopy(raw.ToByteArray(), 0, values, 0, values.Length * 4);
            }
            else
                values = floats.ToArray();
        }
        long[]? integers = null;
        if (dataType == 7) // INT64
        {
            if (raw is not null && raw.Length > 0)
            {
                integers = new long[raw.Length / 8];
                Buffer.BlockCopy(raw.ToByteArray(), 0, integers, 0, integers.Length * 8);
            }
            else
                integers = longs.ToArray();
        }
        return new OnnxInitializer(name, dims.ToArray(), dataType, values) { Integers = integers };
    }

    private static IEnumerable<long> ReadPackedInt64(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        var values = new List<long>();
        while (!input.IsAtEnd)
            values.Add(input.ReadInt64());
        return values;
    }
}

/// <summary>One ONNX node: operator type, inputs, outputs and its integer-list and float attributes.</summary>
internal sealed record OnnxNode(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, long[]> Ints, IReadOnlyDictionary<string, float> Floats)
{
    public long[] Attribute(string name, params long[] defaultValue) => Ints.TryGetValue(name, out var v) ? v : defaultValue;

    public override string ToString()
        => $"{OpType} {Name} ({string.Join(", ", Inputs)}) -> ({string.Join(", ", Outputs)}) " +
           string.Join(" ", Ints.Select(a => $"{a.Key}=[{string.Join(",", a.Value)}]").Concat(Floats.Select(a => $"{a.Key}={a.Value}")));
}

/// <summary>One ONNX initializer; <see cref="Values"/> is set for float tensors (data type 1), <see cref="Integers"/> for int64 tensors (7).</summary>
internal sealed record OnnxInitializer(string Name, long[] Dims, int DataType, float[]? Values)
{
    public long[]? Integers { get; init; }
}

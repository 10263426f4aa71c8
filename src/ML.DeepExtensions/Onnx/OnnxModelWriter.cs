using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using Google.Protobuf;

namespace ML.DeepExtensions.Onnx;

/// <summary>
/// Writes an <see cref="OnnxGraphBuilder"/> as an ONNX <c>ModelProto</c>, field by field with Google.Protobuf's
/// <see cref="CodedOutputStream"/> following onnx.proto's field numbers (the same route as the vision package's ONNX
/// reader), so no generated classes or ONNX package are needed. Float initializers go into <c>raw_data</c>
/// (little-endian, as the format requires).
/// </summary>
internal static class OnnxModelWriter
{
    public const string ProducerName = "ML.DeepExtensions";

    /// <summary>The IR version that goes with an opset (onnx/helper.py's VERSION_TABLE).</summary>
    public static long IrVersionFor(int opset) => opset switch
    {
        <= 8 => 3,
        9 => 4,
        10 => 5,
        11 => 6,
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    public static void Write(Stream stream, OnnxGraphBuilder graph, string graphName, IReadOnlyList<KeyValuePair<string, string>> metadata, string docString)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("ONNX export writes raw little-endian tensor data and needs a little-endian machine.");
        var output = new CodedOutputStream(stream, leaveOpen: true);
        output.WriteTag(1, WireFormat.WireType.Varint);
        output.WriteInt64(IrVersionFor(graph.OpsetVersion));
        WriteString(output, 2, ProducerName);
        WriteString(output, 3, typeof(OnnxModelWriter).Assembly.GetName().Version?.ToString() ?? "0");
        WriteString(output, 6, docString);
        WriteMessage(output, 7, g => WriteGraph(g, graph, graphName));
        WriteMessage(output, 8, o =>
        {
            WriteString(o, 1, "");
            o.WriteTag(2, WireFormat.WireType.Varint);
            o.WriteInt64(graph.OpsetVersion);
        });
        foreach (var (key, value) in metadata)
        {
            WriteMessage(output, 14, e =>
            {
                WriteString(e, 1, key);
                WriteString(e, 2, value);
            });
        }
        output.Flush();
    }

    private static void WriteGraph(CodedOutputStream output, OnnxGraphBuilder graph, string name)
    {
        foreach (var node in graph.Nodes)
            WriteMessage(output, 1, n => WriteNode(n, node));
        WriteString(output, 2, name);
        foreach (var tensor in graph.Initializers)
            WriteMessage(output, 5, t => WriteTensor(t, tensor));
        foreach (var input in graph.Inputs)
            WriteMessage(output, 11, v => WriteValueInfo(v, input));
        foreach (var result in graph.Outputs)
            WriteMessage(output, 12, v => WriteValueInfo(v, result));
    }

    private static void WriteNode(CodedOutputStream output, OnnxNodeRecord node)
    {
        foreach (var input in node.Inputs)
            WriteString(output, 1, input);
        foreach (var result in node.Outputs)
            WriteString(output, 2, result);
        WriteString(output, 3, node.Name);
        WriteString(output, 4, node.OpType);
        foreach (var attribute in node.Attributes)
            WriteMessage(output, 5, a => WriteAttribute(a, attribute));
    }

    private static void WriteAttribute(CodedOutputStream output, OnnxAttribute attribute)
    {
        WriteString(output, 1, attribute.Name);
        switch (attribute.Kind)
        {
            case OnnxAttributeKind.Float:
                output.WriteTag(2, WireFormat.WireType.Fixed32);
                output.WriteFloat(attribute.FloatValue);
                break;
            case OnnxAttributeKind.Int:
                output.WriteTag(3, WireFormat.WireType.Varint);
                output.WriteInt64(attribute.IntValue);
                break;
            case OnnxAttributeKind.String:
                WriteString(output, 4, attribute.StringValue);
                break;
            case OnnxAttributeKind.Floats:
                foreach (var value in attribute.FloatValues)
                {
                    output.WriteTag(7, WireFormat.WireType.Fixed32);
                    output.WriteFloat(value);
                }
                break;
            case OnnxAttributeKind.Ints:
                foreach (var value in attribute.IntValues)
                {
                    output.WriteTag(8, WireFormat.WireType.Varint);
                    output.WriteInt64(value);
                }
                break;
        }
        output.WriteTag(20, WireFormat.WireType.Varint);
        output.WriteInt32((int)attribute.Kind);
    }

    private static void WriteTensor(CodedOutputStream output, OnnxTensorRecord tensor)
    {
        foreach (var dim in tensor.Dims)
        {
            output.WriteTag(1, WireFormat.WireType.Varint);
            output.WriteInt64(dim);
        }
        output.WriteTag(2, WireFormat.WireType.Varint);
        output.WriteInt32((int)tensor.Type);
        if (tensor.Strings is { } strings)
        {
            foreach (var value in strings)
                WriteString(output, 6, value);
        }
        WriteString(output, 8, tensor.Name);
        if (tensor.Floats is { } floats)
        {
            output.WriteTag(9, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(MemoryMarshal.AsBytes(floats.AsSpan())));
        }
        else if (tensor.Longs is { } longs)
        {
            output.WriteTag(9, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(MemoryMarshal.AsBytes(longs.AsSpan())));
        }
    }

    private static void WriteValueInfo(CodedOutputStream output, OnnxValueRecord value)
    {
        WriteString(output, 1, value.Name);
        WriteMessage(output, 2, type => WriteMessage(type, 1, tensorType =>
        {
            tensorType.WriteTag(1, WireFormat.WireType.Varint);
            tensorType.WriteInt32((int)value.Type);
            WriteMessage(tensorType, 2, shape =>
            {
                foreach (var dim in value.Shape)
                {
                    WriteMessage(shape, 1, d =>
                    {
                        if (dim is { } size)
                        {
                            d.WriteTag(1, WireFormat.WireType.Varint);
                            d.WriteInt64(size);
                        }
                        else
                        {
                            WriteString(d, 2, value.DimensionName ?? "batch");
                        }
                    });
                }
            });
        }));
    }

    private static void WriteString(CodedOutputStream output, int field, string value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }

    /// <summary>A nested message: written to a buffer first, since its length precedes it.</summary>
    private static void WriteMessage(CodedOutputStream output, int field, Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var inner = new CodedOutputStream(buffer, leaveOpen: true);
        write(inner);
        inner.Flush();
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(buffer.GetBuffer(), 0, (int)buffer.Length));
    }
}

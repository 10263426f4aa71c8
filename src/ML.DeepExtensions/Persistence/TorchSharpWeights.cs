using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Persistence;

/// <summary>One tensor of a TorchSharp weights stream: its name, element type, shape and where its bytes lie in the stream.</summary>
internal sealed record StoredTensor(string Name, ScalarType DType, long[] Shape, long Offset, long Length)
{
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// The layout of TorchSharp's weights format (<c>Module.save</c>): an encoded entry count, then per entry a length-prefixed
/// UTF-8 name and a tensor (encoded element type, rank, dimensions, then its raw little-endian bytes). It is read here
/// without allocating a single tensor, every count and size checked against the stream's length first, so that neither a
/// damaged model zip nor a hostile weight file can make libtorch allocate what the file cannot hold or fail natively.
/// Problems are <see cref="InvalidDataException"/>s whose message completes "…is not a valid weights stream: ";
/// callers add the file or zip entry.
/// </summary>
internal static class TorchSharpWeights
{
    /// <summary>More dimensions than any layer of this family uses; a larger rank is damage.</summary>
    public const int MaxDimensions = 16;

    /// <summary>The tensors of the weights stream <paramref name="stream"/> (read from its current position to its end).</summary>
    public static IReadOnlyList<StoredTensor> Describe(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var length = stream.Length;
        try
        {
            var count = Decode(reader, "entry count");
            // Every entry takes at least 3 bytes (empty name, type, rank): a larger count cannot be true.
            if (count < 0 || count > (length - stream.Position) / 3)
                throw new InvalidDataException($"it declares {count} tensors in {length:N0} bytes");
            var result = new List<StoredTensor>((int)count);
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var name = reader.ReadString();
                if (!names.Add(name))
                    throw new InvalidDataException($"it holds tensor '{name}' twice");
                var code = Decode(reader, $"element type of '{name}'");
                var dtype = (ScalarType)code;
                if (code < 0 || code > sbyte.MaxValue || !Enum.IsDefined(dtype) || ElementSize(dtype) is not { } elementSize)
                    throw new InvalidDataException($"tensor '{name}' has the unknown element type {code}");
                var rank = Decode(reader, $"rank of '{name}'");
                if (rank < 0 || rank > MaxDimensions)
                    throw new InvalidDataException($"tensor '{name}' declares {rank} dimensions");
                var shape = new long[rank];
                for (var d = 0; d < rank; d++)
                    shape[d] = Decode(reader, $"shape of '{name}'");
                var bytes = ByteLength(shape, elementSize);
                var available = length - stream.Position;
                if (bytes is null || bytes > available)
                    throw new InvalidDataException($"tensor '{name}' [{string.Join(", ", shape)}] of {dtype} needs {(bytes is null ? "more than 2^63" : bytes.Value.ToString("N0"))} bytes, only {available:N0} remain");
                result.Add(new StoredTensor(name, dtype, shape, stream.Position, bytes.Value));
                stream.Seek(bytes.Value, SeekOrigin.Current);
            }
            if (stream.Position != length)
                throw new InvalidDataException($"{length - stream.Position:N0} bytes follow the last tensor");
            return result;
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("it ends in the middle of a tensor description", ex);
        }
        catch (FormatException ex)
        {
            throw new InvalidDataException($"a tensor name is not a valid length-prefixed string ({ex.Message})", ex);
        }
    }

    /// <summary>Bytes of a tensor of <paramref name="shape"/>, or null when a dimension is negative or the size overflows.</summary>
    public static long? ByteLength(long[] shape, int elementSize)
    {
        long elements = 1;
        foreach (var d in shape)
        {
            if (d < 0)
                return null;
            if (d != 0 && elements > long.MaxValue / d)
                return null;
            elements *= d;
        }
        return elements > long.MaxValue / elementSize ? null : elements * elementSize;
    }

    /// <summary>Bytes per element, or null for types this family never stores.</summary>
    public static int? ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.ComplexFloat64 => 16,
        _ => null,
    };

    /// <summary>The first of <paramref name="tensors"/> holding a NaN or infinite floating-point value in <paramref name="content"/>, or null.</summary>
    public static StoredTensor? FirstNonFinite(ReadOnlySpan<byte> content, IEnumerable<StoredTensor> tensors)
    {
        foreach (var tensor in tensors)
        {
            var bytes = content.Slice(checked((int)tensor.Offset), checked((int)tensor.Length));
            if (!AllFinite(bytes, tensor.DType))
                return tensor;
        }
        return null;
    }

    /// <summary>Whether every value of a little-endian buffer of <paramref name="dtype"/> is finite (true for non-floating types).</summary>
    public static bool AllFinite(ReadOnlySpan<byte> bytes, ScalarType dtype)
    {
        switch (dtype)
        {
            case ScalarType.Float32:
            case ScalarType.ComplexFloat32:
                foreach (var v in MemoryMarshal.Cast<byte, float>(bytes))
                {
                    if (!float.IsFinite(v))
                        return false;
                }
                return true;
            case ScalarType.Float64:
            case ScalarType.ComplexFloat64:
                foreach (var v in MemoryMarshal.Cast<byte, double>(bytes))
                {
                    if (!double.IsFinite(v))
                        return false;
                }
                return true;
            case ScalarType.Float16:
                foreach (var v in MemoryMarshal.Cast<byte, ushort>(bytes))
                {
                    if ((v & 0x7C00) == 0x7C00)
                        return false;
                }
                return true;
            case ScalarType.BFloat16:
                foreach (var v in MemoryMarshal.Cast<byte, ushort>(bytes))
                {
                    if ((v & 0x7F80) == 0x7F80)
                        return false;
                }
                return true;
            default:
                return true;
        }
    }

    /// <summary>TorchSharp's LEB128-style encoding of a long (<c>BinaryWriter.Encode</c>).</summary>
    private static long Decode(BinaryReader reader, string what)
    {
        long value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = reader.ReadByte();
            value |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
                return value;
        }
        throw new InvalidDataException($"the {what} is not a valid encoded number");
    }
}

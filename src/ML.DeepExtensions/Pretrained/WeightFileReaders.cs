using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Pretrained;

/// <summary>
/// Readers for the weight formats. Each validates sizes against the file length before allocating, so a
/// truncated or corrupt file gives a clear exception instead of a huge allocation or a native crash.
/// </summary>
internal static class WeightFileReaders
{
    private const int MaxDimensions = 16;

    // ---------------------------------------------------------------- TorchSharp (Module.save)

    /// <summary>
    /// TorchSharp's format: LEB128 entry count, then per entry a length-prefixed name and a tensor
    /// (LEB128 dtype, rank, dimensions, then the raw little-endian bytes).
    /// </summary>
    public static IReadOnlyList<SourceTensor> ReadTorchSharp(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var count = Decode(reader, "entry count");
        if (count < 0 || count > stream.Length)
            throw Corrupt(path, $"it declares {count} tensors");
        var result = new List<SourceTensor>((int)count);
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            var dtype = (ScalarType)Decode(reader, $"type of '{name}'");
            if (!Enum.IsDefined(dtype))
                throw Corrupt(path, $"tensor '{name}' has an unknown element type {(long)dtype}");
            var rank = Decode(reader, $"rank of '{name}'");
            if (rank < 0 || rank > MaxDimensions)
                throw Corrupt(path, $"tensor '{name}' declares {rank} dimensions");
            var shape = new long[rank];
            for (var d = 0; d < rank; d++)
                shape[d] = Decode(reader, $"shape of '{name}'");
            var tensor = FromBytes(path, name, dtype, shape, reader, stream.Length - stream.Position);
            result.Add(new SourceTensor(name, tensor));
        }
        if (stream.Position != stream.Length)
            throw Corrupt(path, $"{stream.Length - stream.Position} bytes follow the last tensor");
        return result;
    }

    // ---------------------------------------------------------------- safetensors

    /// <summary>safetensors: 8-byte little-endian header length, a JSON header (name → dtype, shape, offsets), the data.</summary>
    public static IReadOnlyList<SourceTensor> ReadSafetensors(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        if (stream.Length < 8)
            throw Corrupt(path, "it is shorter than the 8-byte safetensors header length");
        var headerLength = reader.ReadUInt64();
        if (headerLength > (ulong)(stream.Length - 8) || headerLength > int.MaxValue)
            throw Corrupt(path, $"its header length {headerLength} exceeds the file size {stream.Length}");
        var header = reader.ReadBytes((int)headerLength);
        var dataStart = 8 + (long)headerLength;
        var dataLength = stream.Length - dataStart;

        using var json = JsonDocument.Parse(header);
        if (json.RootElement.ValueKind != JsonValueKind.Object)
            throw Corrupt(path, "its header is not a JSON object");
        var result = new List<SourceTensor>();
        foreach (var entry in json.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
                continue;
            var name = entry.Name;
            var dtypeName = entry.Value.GetProperty("dtype").GetString() ?? "";
            var dtype = dtypeName switch
            {
                "F64" => ScalarType.Float64,
                "F32" => ScalarType.Float32,
                "F16" => ScalarType.Float16,
                "BF16" => ScalarType.BFloat16,
                "I64" => ScalarType.Int64,
                "I32" => ScalarType.Int32,
                "I16" => ScalarType.Int16,
                "I8" => ScalarType.Int8,
                "U8" => ScalarType.Byte,
                "BOOL" => ScalarType.Bool,
                _ => throw Corrupt(path, $"tensor '{name}' has the unsupported dtype '{dtypeName}'"),
            };
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (shape.Length > MaxDimensions || offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
                throw Corrupt(path, $"tensor '{name}' has data offsets [{string.Join(", ", offsets)}] outside the {dataLength} data bytes");
            stream.Position = dataStart + offsets[0];
            var tensor = FromBytes(path, name, dtype, shape, reader, offsets[1] - offsets[0], exact: true);
            result.Add(new SourceTensor(name, tensor));
        }
        return result;
    }

    // ---------------------------------------------------------------- PyTorch (torch.save of a state dict)

    /// <summary>
    /// PyTorch's zip format, unpickled by TorchSharp.PyBridge. PyBridge returns the state dict as an unordered
    /// table, so the order is recovered from the pickle itself: each key is pickled once, as a string, in
    /// state-dict order, before its tensor.
    /// </summary>
    public static IReadOnlyList<SourceTensor> ReadPyTorch(string path)
    {
        byte[] pickle;
        using (var stream = File.OpenRead(path))
        {
            var signature = new byte[4];
            if (stream.Read(signature, 0, 4) != 4 || signature[0] != 0x50 || signature[1] != 0x4b || signature[2] != 0x03 || signature[3] != 0x04)
                throw Corrupt(path, "it is not a PyTorch zip archive (files written by torch.save since PyTorch 1.6 are; re-save older ones with a recent PyTorch)");
            stream.Position = 0;
            using var archive = new ZipArchive(stream, ZipArchiveMode.Read);
            var entry = archive.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal))
                        ?? throw Corrupt(path, "the archive has no data.pkl entry");
            using var pkl = entry.Open();
            using var memory = new MemoryStream();
            pkl.CopyTo(memory);
            pickle = memory.ToArray();
        }

        Hashtable table;
        using (var stream = File.OpenRead(path))
            table = Unpickle(stream);

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry item in table)
        {
            if (item.Key is string key && item.Value is Tensor tensor)
                tensors[key] = tensor;
        }
        if (tensors.Count == 0)
            throw Corrupt(path, "it holds no tensors (save model.state_dict(), not the model)");

        var order = tensors.Keys.Select(k => (Key: k, Position: PickledStringPosition(pickle, k))).ToArray();
        var missing = order.FirstOrDefault(o => o.Position < 0);
        if (missing.Key is not null)
            throw Corrupt(path, $"the order of tensor '{missing.Key}' cannot be recovered from its pickle");
        return order.OrderBy(o => o.Position).Select(o => new SourceTensor(o.Key, tensors[o.Key])).ToArray();
    }

    private static readonly Lazy<Func<Stream, Hashtable>> Unpickler = new(() =>
    {
        // TorchSharp.PyBridge 1.4.4 exposes loading only into a module by name; its state-dict unpickler is
        // internal. We call it directly so that names need not match; the version is pinned centrally and
        // PretrainedWeightsTests fail at once if a new version moves it.
        var type = typeof(TorchSharp.PyBridge.PyBridgeModuleExtensions).Assembly.GetType("TorchSharp.PyBridge.PyTorchUnpickler");
        var method = type?.GetMethod("UnpickleStateDict", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, [typeof(Stream), typeof(bool), typeof(bool)]);
        if (method is null || method.ReturnType != typeof(Hashtable))
            throw new MissingMethodException("TorchSharp.PyBridge no longer has PyTorchUnpickler.UnpickleStateDict(Stream, bool leaveOpen, bool skipTensorRead); this version of ML.DeepExtensions needs TorchSharp.PyBridge 1.4.x.");
        return stream => (Hashtable)method.Invoke(null, [stream, false, false])!;
    });

    private static Hashtable Unpickle(Stream stream)
    {
        try
        {
            return Unpickler.Value(stream);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw ex.InnerException is NotImplementedException or InvalidCastException or Razorvine.Pickle.PickleException
                ? new InvalidDataException(ex.InnerException.Message, ex.InnerException)
                : ex.InnerException;
        }
    }

    /// <summary>Offset of the first pickled occurrence of <paramref name="text"/> (BINUNICODE, SHORT_BINUNICODE or BINUNICODE8), or -1.</summary>
    internal static int PickledStringPosition(byte[] pickle, string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        var candidates = new List<byte[]>();
        var length = BitConverter.GetBytes((uint)utf8.Length);
        if (!BitConverter.IsLittleEndian)
            Array.Reverse(length);
        candidates.Add([(byte)'X', .. length, .. utf8]);
        if (utf8.Length < 256)
            candidates.Add([0x8c, (byte)utf8.Length, .. utf8]);
        var best = -1;
        foreach (var candidate in candidates)
        {
            var at = pickle.AsSpan().IndexOf(candidate);
            if (at >= 0 && (best < 0 || at < best))
                best = at;
        }
        return best;
    }

    // ---------------------------------------------------------------- shared

    private static Tensor FromBytes(string path, string name, ScalarType dtype, long[] shape, BinaryReader reader, long available, bool exact = false)
    {
        if (shape.Any(d => d < 0))
            throw Corrupt(path, $"tensor '{name}' has a negative dimension in [{string.Join(", ", shape)}]");
        var elementSize = ElementSize(dtype) ?? throw Corrupt(path, $"tensor '{name}' has the unsupported element type {dtype}");
        long elements = 1;
        foreach (var d in shape)
            elements = checked(elements * d);
        var bytes = checked(elements * elementSize);
        if (bytes > available || (exact && bytes != available))
            throw Corrupt(path, $"tensor '{name}' [{string.Join(", ", shape)}] of {dtype} needs {bytes} bytes, the file has {available}");
        if (bytes > int.MaxValue)
            throw Corrupt(path, $"tensor '{name}' is larger than 2 GB, which this reader does not support");
        var data = reader.ReadBytes((int)bytes);
        if (data.Length != bytes)
            throw Corrupt(path, $"it ends inside tensor '{name}'");
        var tensor = torch.empty(shape, dtype);
        if (bytes > 0)
            tensor.bytes = data;
        return tensor;
    }

    private static int? ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.ComplexFloat64 => 16,
        _ => null,
    };

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
        throw new InvalidDataException($"The {what} is not a valid encoded number.");
    }

    private static PretrainedWeightsException Corrupt(string path, string why)
        => new(path, $"Pretrained weights file '{path}' is not a valid file of its format: {why}.");
}

using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.Json;
using ML.DeepExtensions.Persistence;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Pretrained;

/// <summary>
/// Readers for the weight formats. Each validates every size, shape and offset against the file (and, for PyTorch's zip,
/// the inflated sizes against the file's size) before allocating, so a truncated, corrupt or hostile file gives a
/// <see cref="PretrainedWeightsException"/> naming the file instead of a huge allocation or a libtorch error.
/// </summary>
internal static class WeightFileReaders
{
    // ---------------------------------------------------------------- TorchSharp (Module.save)

    /// <summary>
    /// TorchSharp's format (see <see cref="TorchSharpWeights"/>): the whole layout is checked against the file length
    /// before the first tensor is allocated.
    /// </summary>
    public static IReadOnlyList<SourceTensor> ReadTorchSharp(string path)
    {
        using var stream = File.OpenRead(path);
        IReadOnlyList<StoredTensor> layout;
        try
        {
            layout = TorchSharpWeights.Describe(stream);
        }
        catch (InvalidDataException ex)
        {
            throw Corrupt(path, ex.Message);
        }
        var result = new List<SourceTensor>(layout.Count);
        foreach (var t in layout)
        {
            stream.Position = t.Offset;
            result.Add(new SourceTensor(t.Name, FromStream(path, t.Name, t.DType, t.Shape, stream, t.Length)));
        }
        return result;
    }

    // ---------------------------------------------------------------- safetensors

    /// <summary>
    /// safetensors: 8-byte little-endian header length, a JSON header (name → dtype, shape, data offsets), the data. Every
    /// field is checked for presence and type, and every tensor's offsets against the data length and its shape, before
    /// anything is allocated.
    /// </summary>
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
            if (entry.Value.ValueKind != JsonValueKind.Object)
                throw Corrupt(path, $"the header entry of tensor '{name}' is not an object with \"dtype\", \"shape\" and \"data_offsets\"");
            var dtypeName = Field(path, name, entry.Value, "dtype", JsonValueKind.String).GetString() ?? "";
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
            var shape = Integers(path, name, Field(path, name, entry.Value, "shape", JsonValueKind.Array), "shape");
            var offsets = Integers(path, name, Field(path, name, entry.Value, "data_offsets", JsonValueKind.Array), "data_offsets");
            if (shape.Length > TorchSharpWeights.MaxDimensions)
                throw Corrupt(path, $"tensor '{name}' declares {shape.Length} dimensions");
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
                throw Corrupt(path, $"tensor '{name}' has data offsets [{string.Join(", ", offsets)}] outside the {dataLength} data bytes");
            var bytes = CheckedLength(path, name, dtype, shape);
            if (bytes != offsets[1] - offsets[0])
                throw Corrupt(path, $"tensor '{name}' [{string.Join(", ", shape)}] of {dtype} needs {bytes} bytes, its data offsets span {offsets[1] - offsets[0]}");
            stream.Position = dataStart + offsets[0];
            result.Add(new SourceTensor(name, FromStream(path, name, dtype, shape, stream, bytes)));
        }
        return result;
    }

    private static JsonElement Field(string path, string tensor, JsonElement entry, string field, JsonValueKind kind)
    {
        if (!entry.TryGetProperty(field, out var value))
            throw Corrupt(path, $"the header entry of tensor '{tensor}' has no \"{field}\" field");
        if (value.ValueKind != kind)
            throw Corrupt(path, $"the \"{field}\" field of tensor '{tensor}' is a JSON {value.ValueKind}, not a JSON {kind}");
        return value;
    }

    private static long[] Integers(string path, string tensor, JsonElement array, string field)
    {
        var values = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var value) || value < 0)
                throw Corrupt(path, $"the \"{field}\" field of tensor '{tensor}' holds {item.GetRawText()}, not a non-negative integer");
            values.Add(value);
        }
        return values.ToArray();
    }

    // ---------------------------------------------------------------- PyTorch (torch.save of a state dict)

    /// <summary>
    /// A <c>.pt</c> may inflate to at most this many times its own size in total (data.pkl and every storage read). PyTorch
    /// stores its entries uncompressed (ratio 1); a file that inflates further is a deflate bomb.
    /// </summary>
    internal const int MaxInflation = 16;

    /// <summary>data.pkl of a state dict is small (names and tensor metadata); a larger one is not a state dict.</summary>
    private const long MaxPickleBytes = 64L << 20;

    /// <summary>
    /// PyTorch's zip format. The pickle is read by TorchSharp.PyBridge without reading any tensor
    /// (<c>skipTensorRead</c>): its unpickler builds only the classes it registers (tensors, <c>OrderedDict</c>) and turns
    /// any other global into an inert dictionary, so a pickle cannot run code. Each tensor's storage type, shape, strides
    /// and offset are then checked against its storage entry's size, and the total inflated bytes against
    /// <see cref="MaxInflation"/> × the file size, before anything is allocated; only then are the bytes read and the
    /// tensor built. PyBridge returns the state dict as an unordered table, so the order is recovered from the pickle
    /// itself: each key is pickled once, as a string, in state-dict order, before its tensor.
    /// </summary>
    public static IReadOnlyList<SourceTensor> ReadPyTorch(string path)
    {
        using var stream = File.OpenRead(path);
        var signature = new byte[4];
        if (stream.Read(signature, 0, 4) != 4 || signature[0] != 0x50 || signature[1] != 0x4b || signature[2] != 0x03 || signature[3] != 0x04)
            throw Corrupt(path, "it is not a PyTorch zip archive (files written by torch.save since PyTorch 1.6 are; re-save older ones with a recent PyTorch)");
        stream.Position = 0;
        var budget = Math.Max(stream.Length * MaxInflation, 1L << 20);
        using var archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        var entry = archive.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal))
                    ?? throw Corrupt(path, "the archive has no data.pkl entry");
        var pickle = ReadBounded(path, entry, Math.Min(budget, MaxPickleBytes), "data.pkl");
        budget -= pickle.Length;

        Hashtable table;
        stream.Position = 0;
        table = Unpickle(stream);

        var pending = new List<(string Key, PickledTensor Tensor)>();
        try
        {
            foreach (DictionaryEntry item in table)
            {
                if (item.Key is string key && PickledTensor.From(item.Value) is { } tensor)
                    pending.Add((key, tensor));
            }
            if (pending.Count == 0)
                throw Corrupt(path, "it holds no tensors (save model.state_dict(), not the model)");

            var order = pending.Select(p => (p.Key, Position: PickledStringPosition(pickle, p.Key))).ToArray();
            var missing = order.FirstOrDefault(o => o.Position < 0);
            if (missing.Key is not null)
                throw Corrupt(path, $"the order of tensor '{missing.Key}' cannot be recovered from its pickle");

            // Every size is checked before the first storage is read or tensor allocated.
            var plans = pending.Select(p => (p.Key, p.Tensor, Storage: Plan(path, archive, p.Key, p.Tensor))).ToArray();
            var total = plans.Aggregate(0L, (sum, p) => sum > long.MaxValue - p.Storage.Bytes ? long.MaxValue : sum + p.Storage.Bytes);
            if (total > budget)
                throw Corrupt(path, $"its tensors need {total:N0} bytes once inflated, more than {MaxInflation} times the file's {stream.Length:N0} bytes " +
                                    "(PyTorch stores tensors uncompressed; this looks like a deflate bomb)");
            var tensors = plans.ToDictionary(p => p.Key, p => Materialize(path, p.Key, p.Tensor, p.Storage), StringComparer.Ordinal);
            return order.OrderBy(o => o.Position).Select(o => new SourceTensor(o.Key, tensors[o.Key])).ToArray();
        }
        finally
        {
            foreach (DictionaryEntry item in table)
                PickledTensor.From(item.Value)?.Data?.Dispose();
        }
    }

    /// <summary>A tensor's description as PyBridge's pickle reader leaves it with <c>skipTensorRead</c> (its internal
    /// <c>TensorConstructorArgs</c>, read by reflection: PyBridge 1.4.x is pinned centrally and PretrainedWeightsTests fail at once if it changes).</summary>
    private sealed record PickledTensor(ScalarType DType, long[] Shape, long[] Stride, long StorageOffset, int ArchiveIndex, Stream? Data)
    {
        private static readonly Lazy<Func<object, PickledTensor?>> Reader = new(() =>
        {
            var type = typeof(TorchSharp.PyBridge.PyTorchUnpickler).GetNestedType("TensorConstructorArgs", BindingFlags.NonPublic | BindingFlags.Public);
            PropertyInfo Property(string name, Type propertyType)
                => type?.GetProperty(name, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance) is { } p && p.PropertyType == propertyType
                    ? p
                    : throw new MissingMemberException("TorchSharp.PyBridge no longer has PyTorchUnpickler.TensorConstructorArgs." + name +
                                                       "; this version of ML.DeepExtensions needs TorchSharp.PyBridge 1.4.x.");
            var dtype = Property("DType", typeof(ScalarType));
            var shape = Property("Shape", typeof(long[]));
            var stride = Property("Stride", typeof(long[]));
            var offset = Property("StorageOffset", typeof(int));
            var index = Property("ArchiveIndex", typeof(int));
            var data = Property("Data", typeof(Stream));
            return value => value is not null && value.GetType() == type
                ? new PickledTensor((ScalarType)dtype.GetValue(value)!, (long[])shape.GetValue(value)!, (long[])stride.GetValue(value)!,
                    (int)offset.GetValue(value)!, (int)index.GetValue(value)!, (Stream?)data.GetValue(value))
                : null;
        });

        public static PickledTensor? From(object? value) => Reader.Value(value!);
    }

    private sealed record StoragePlan(ZipArchiveEntry Entry, long Elements, long Bytes);

    /// <summary>Checks one tensor's metadata and returns the prefix of its storage entry it needs.</summary>
    private static StoragePlan Plan(string path, ZipArchive archive, string name, PickledTensor tensor)
    {
        var elementSize = TorchSharpWeights.ElementSize(tensor.DType) ?? throw Corrupt(path, $"tensor '{name}' has the unsupported element type {tensor.DType}");
        if (tensor.Shape is null || tensor.Stride is null || tensor.Shape.Length > TorchSharpWeights.MaxDimensions || tensor.Stride.Length != tensor.Shape.Length)
            throw Corrupt(path, $"tensor '{name}' has {tensor.Shape?.Length} dimensions and {tensor.Stride?.Length} strides");
        if (tensor.Shape.Any(d => d < 0) || tensor.Stride.Any(s => s < 0) || tensor.StorageOffset < 0)
            throw Corrupt(path, $"tensor '{name}' has a negative dimension, stride or storage offset (shape [{string.Join(", ", tensor.Shape)}], " +
                                $"strides [{string.Join(", ", tensor.Stride)}], offset {tensor.StorageOffset})");
        if (tensor.ArchiveIndex < 0 || tensor.ArchiveIndex >= archive.Entries.Count)
            throw Corrupt(path, $"tensor '{name}' names storage entry #{tensor.ArchiveIndex}, which the archive does not have");
        var entry = archive.Entries[tensor.ArchiveIndex];
        if (TorchSharpWeights.ByteLength(tensor.Shape, elementSize) is null)
            throw Corrupt(path, $"tensor '{name}' [{string.Join(", ", tensor.Shape)}] has more than 2^63 bytes");
        // The last element a strided view reaches: offset + Σ (dᵢ − 1)·strideᵢ, in the storage's elements.
        long elements = 0;
        if (tensor.Shape.All(d => d > 0))
        {
            try
            {
                long last = tensor.StorageOffset;
                for (var d = 0; d < tensor.Shape.Length; d++)
                    last = checked(last + (tensor.Shape[d] - 1) * tensor.Stride[d]);
                elements = checked(last + 1);
            }
            catch (OverflowException)
            {
                throw Corrupt(path, $"tensor '{name}' reaches beyond 2^63 elements of its storage");
            }
        }
        var bytes = elements > long.MaxValue / elementSize ? long.MaxValue : elements * elementSize;
        if (bytes > entry.Length)
            throw Corrupt(path, $"tensor '{name}' [{string.Join(", ", tensor.Shape)}] of {tensor.DType} (strides [{string.Join(", ", tensor.Stride)}], " +
                                $"offset {tensor.StorageOffset}) reaches {bytes:N0} bytes into its storage '{entry.FullName}', which holds {entry.Length:N0}");
        if (bytes > int.MaxValue)
            throw Corrupt(path, $"tensor '{name}' is larger than 2 GB, which this reader does not support");
        return new StoragePlan(entry, elements, bytes);
    }

    private static Tensor Materialize(string path, string name, PickledTensor tensor, StoragePlan storage)
    {
        if (storage.Elements == 0)
            return torch.empty(tensor.Shape, tensor.DType);
        var data = ReadBounded(path, storage.Entry, storage.Bytes, $"the storage of '{name}'", exact: true);
        using var flat = torch.empty(new[] { storage.Elements }, tensor.DType);
        flat.bytes = data;
        using var view = flat.as_strided(tensor.Shape, tensor.Stride, tensor.StorageOffset);
        return view.clone();
    }

    /// <summary>Reads <paramref name="entry"/> (all of it, or its first <paramref name="limit"/> bytes when <paramref name="exact"/>),
    /// never inflating more than <paramref name="limit"/> bytes whatever its header claims.</summary>
    private static byte[] ReadBounded(string path, ZipArchiveEntry entry, long limit, string what, bool exact = false)
    {
        using var source = entry.Open();
        using var memory = new MemoryStream();
        var buffer = new byte[81920];
        while (memory.Length < limit || !exact)
        {
            var want = (int)Math.Min(buffer.Length, exact ? limit - memory.Length : buffer.Length);
            var read = source.Read(buffer, 0, want);
            if (read == 0)
                break;
            memory.Write(buffer, 0, read);
            if (!exact && memory.Length > limit)
                throw Corrupt(path, $"{what} inflates to more than {limit:N0} bytes (more than {MaxInflation} times the file's size; this looks like a deflate bomb)");
        }
        if (exact && memory.Length != limit)
            throw Corrupt(path, $"{what} ends after {memory.Length:N0} of its {limit:N0} bytes");
        return memory.ToArray();
    }

    private static Hashtable Unpickle(Stream stream)
    {
        try
        {
            return TorchSharp.PyBridge.PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true, skipTensorRead: true);
        }
        catch (Exception ex) when (ex is NotImplementedException or InvalidCastException or Razorvine.Pickle.PickleException
                                       or NullReferenceException or KeyNotFoundException or IndexOutOfRangeException or EndOfStreamException)
        {
            // The pickle is untrusted input to a third-party reader: whatever it throws on malformed data is damage, not a bug here.
            throw new InvalidDataException($"its pickle cannot be read ({ex.GetType().Name}: {ex.Message})", ex);
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

    private static long CheckedLength(string path, string name, ScalarType dtype, long[] shape)
        => TorchSharpWeights.ByteLength(shape, TorchSharpWeights.ElementSize(dtype) ?? throw Corrupt(path, $"tensor '{name}' has the unsupported element type {dtype}"))
           ?? throw Corrupt(path, $"tensor '{name}' [{string.Join(", ", shape)}] has a negative dimension or more than 2^63 bytes");

    /// <summary>A tensor of <paramref name="shape"/> from the next <paramref name="bytes"/> bytes of <paramref name="stream"/>, whose size was checked.</summary>
    private static Tensor FromStream(string path, string name, ScalarType dtype, long[] shape, Stream stream, long bytes)
    {
        if (bytes > int.MaxValue)
            throw Corrupt(path, $"tensor '{name}' is larger than 2 GB, which this reader does not support");
        var data = new byte[bytes];
        stream.ReadExactly(data);
        var tensor = torch.empty(shape, dtype);
        if (bytes > 0)
            tensor.bytes = data;
        return tensor;
    }

    private static PretrainedWeightsException Corrupt(string path, string why)
        => new(path, $"Pretrained weights file '{path}' is not a valid file of its format: {why}.");
}

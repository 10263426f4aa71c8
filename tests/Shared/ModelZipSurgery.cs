using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Xunit;

namespace ML.DeepExtensions.TestSupport;

/// <summary>
/// Edits saved model zips the way damage or an attacker would: replaces an entry's (inflated) bytes, flips bytes, or
/// rewrites the JSON header of one of our model streams — re-hashing it like an attacker who knows the format (when the
/// stream carries an integrity record), so that what is tested is the validation behind the hash. Knows ML.NET's model
/// stream layout (a 0x100-byte header, the model blob, then string table, assembly name and tail, located by offsets in
/// the header) only as far as needed to resize the blob.
/// </summary>
internal static class ModelZipSurgery
{
    private const int HeaderSize = 0x100;

    public static string[] EntryNames(string zip)
    {
        using var archive = ZipFile.OpenRead(zip);
        return archive.Entries.Select(e => e.FullName).ToArray();
    }

    /// <summary>The inflated bytes of the entry whose name ends with <paramref name="suffix"/> (exactly one must).</summary>
    public static byte[] Read(string zip, string suffix)
    {
        using var archive = ZipFile.OpenRead(zip);
        var entry = archive.Entries.Single(e => e.FullName.EndsWith(suffix, StringComparison.Ordinal));
        using var stream = entry.Open();
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    /// <summary>Writes <paramref name="target"/>: a copy of <paramref name="source"/> with entry <paramref name="name"/>'s bytes replaced.</summary>
    public static void CopyWithEntry(string source, string target, string name, byte[] content)
    {
        using var input = ZipFile.OpenRead(source);
        using var output = new ZipArchive(File.Create(target), ZipArchiveMode.Create);
        foreach (var entry in input.Entries)
        {
            using var to = output.CreateEntry(entry.FullName, CompressionLevel.Fastest).Open();
            if (entry.FullName == name)
            {
                to.Write(content);
            }
            else
            {
                using var from = entry.Open();
                from.CopyTo(to);
            }
        }
    }

    /// <summary>Replaces, in place, the entry whose name ends with <paramref name="suffix"/>.</summary>
    public static void Replace(string zip, string suffix, byte[] content)
    {
        string name;
        using (var archive = ZipFile.OpenRead(zip))
            name = archive.Entries.Single(e => e.FullName.EndsWith(suffix, StringComparison.Ordinal)).FullName;
        var copy = zip + ".edit";
        CopyWithEntry(zip, copy, name, content);
        File.Move(copy, zip, overwrite: true);
    }

    /// <summary>Flips <paramref name="count"/> random bytes (XOR with a non-zero value) in [<paramref name="from"/>, end).</summary>
    public static byte[] Flip(byte[] bytes, int count, Random random, int from = 0)
    {
        var copy = (byte[])bytes.Clone();
        for (var i = 0; i < count && copy.Length > from; i++)
            copy[random.Next(from, copy.Length)] ^= (byte)random.Next(1, 256);
        return copy;
    }

    /// <summary>The JSON header and (from the format versions that write one) the integrity record of a model stream.</summary>
    public static (string Header, string? Integrity) ReadHeader(byte[] modelStream)
    {
        using var reader = new BinaryReader(new MemoryStream(Blob(modelStream)), Encoding.UTF8);
        var header = reader.ReadString();
        var integrity = reader.BaseStream.Position < reader.BaseStream.Length ? reader.ReadString() : null;
        return (header, integrity);
    }

    /// <summary>
    /// Rewrites the JSON header of the model stream whose entry name ends with <paramref name="suffix"/> (for example
    /// <c>TransformerChain/Model.key</c>), recomputing its hash in the integrity record when there is one (unless
    /// <paramref name="rehash"/> is false: then the record is kept as it was).
    /// </summary>
    public static void EditHeader(string zip, string suffix, Action<JsonObject> edit, bool rehash = true)
    {
        var stream = Read(zip, suffix);
        var (header, integrity) = ReadHeader(stream);
        var json = JsonNode.Parse(header)!.AsObject();
        edit(json);
        var edited = json.ToJsonString();
        var record = integrity;
        if (integrity is not null && rehash)
        {
            var node = JsonNode.Parse(integrity)!.AsObject();
            node["header"] = Sha256(Encoding.UTF8.GetBytes(edited));
            record = node.ToJsonString();
        }
        Replace(zip, suffix, WithBlob(stream, Strings(edited, record)));
    }

    /// <summary>Replaces a binary stream beside a model stream and, like an attacker, its hash in that model stream's integrity record.</summary>
    public static void ReplaceStreamAndRehash(string zip, string directory, string streamName, byte[] content)
    {
        Replace(zip, directory + "/" + streamName, content);
        var modelStream = Read(zip, directory + "/Model.key");
        var (header, integrity) = ReadHeader(modelStream);
        if (integrity is null)
            return;
        var node = JsonNode.Parse(integrity)!.AsObject();
        node["streams"]![streamName] = Sha256(content);
        Replace(zip, directory + "/Model.key", WithBlob(modelStream, Strings(header, node.ToJsonString())));
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    private static byte[] Strings(string first, string? second)
    {
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(first);
            if (second is not null)
                writer.Write(second);
        }
        return memory.ToArray();
    }

    private static byte[] Blob(byte[] stream)
    {
        var model = BitConverter.ToInt64(stream, 0x10);
        var size = BitConverter.ToInt64(stream, 0x18);
        return stream.AsSpan((int)model, (int)size).ToArray();
    }

    /// <summary>The model stream with its blob replaced, every offset after the blob moved by the size difference.</summary>
    private static byte[] WithBlob(byte[] stream, byte[] blob)
    {
        var model = BitConverter.ToInt64(stream, 0x10);
        var size = BitConverter.ToInt64(stream, 0x18);
        var delta = blob.Length - size;
        var result = new List<byte>();
        var header = stream.AsSpan(0, HeaderSize).ToArray();
        BitConverter.TryWriteBytes(header.AsSpan(0x18), (long)blob.Length);
        foreach (var offset in new[] { 0x20, 0x30, 0x80, 0x88, 0x90 }) // string table, string chars, tail, lim, assembly name
        {
            var value = BitConverter.ToInt64(header, offset);
            if (value != 0)
                BitConverter.TryWriteBytes(header.AsSpan(offset), value + delta);
        }
        result.AddRange(header);
        result.AddRange(stream.AsSpan(HeaderSize, (int)model - HeaderSize).ToArray());
        result.AddRange(blob);
        result.AddRange(stream.AsSpan((int)(model + size)).ToArray());
        return result.ToArray();
    }

    /// <summary>Positions of the floating-point values of each tensor in a TorchSharp weights stream (<c>Module.save</c>):
    /// name → (offset of its first byte, bytes, element size), for Single tensors only.</summary>
    public static Dictionary<string, (int Offset, int Bytes)> SingleTensors(byte[] weights)
    {
        var result = new Dictionary<string, (int, int)>();
        using var reader = new BinaryReader(new MemoryStream(weights), Encoding.UTF8);
        var count = Decode(reader);
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            var dtype = Decode(reader);
            var rank = Decode(reader);
            long elements = 1;
            for (var d = 0; d < rank; d++)
                elements *= Decode(reader);
            var size = dtype switch { 0 or 1 or 11 => 1, 2 or 5 or 15 => 2, 3 or 6 => 4, _ => 8 };
            if (dtype == 6)
                result[name] = ((int)reader.BaseStream.Position, (int)(elements * size));
            reader.BaseStream.Seek(elements * size, SeekOrigin.Current);
        }
        return result;
    }

    private static long Decode(BinaryReader reader)
    {
        long value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = reader.ReadByte();
            value |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
                return value;
        }
    }
}

/// <summary>What a damaged model zip must give when loaded: an <see cref="InvalidDataException"/> (ML.NET wraps what a loader
/// throws in a TargetInvocationException) saying the model is damaged and naming the zip entry.</summary>
internal static class Damage
{
    public static InvalidDataException AssertLoadFails(string zip, params string[] fragments)
    {
        var ex = Record.Exception(() =>
        {
            var loaded = new MLContext().Model.Load(zip, out _);
            (loaded as IDisposable)?.Dispose();
        });
        Assert.True(ex is not null, $"'{zip}' loaded, but it is damaged");
        var data = Find(ex!);
        Assert.True(data is not null, $"expected an InvalidDataException, got {ex}");
        foreach (var fragment in fragments)
            Assert.True(data!.Message.Contains(fragment, StringComparison.Ordinal), $"'{fragment}' is not in the message: {data.Message}");
        return data!;
    }

    /// <summary>The exception itself or the first inner exception that is an <see cref="InvalidDataException"/>.</summary>
    public static InvalidDataException? Find(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is InvalidDataException data)
                return data;
        }
        return null;
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using Microsoft.ML;

namespace ML.DeepExtensions.Persistence;

/// <summary>
/// The JSON header every transformer of this family writes first in its model stream, followed (from the format versions
/// that require it) by its <see cref="IntegrityRecord"/>, and the binary streams beside the model stream.
/// </summary>
internal static class JsonHeader
{
    /// <summary>The model stream ML.NET writes for each saved transformer.</summary>
    public const string ModelStreamName = "Model.key";

    /// <summary>Writes <paramref name="header"/>, the integrity record of it and of <paramref name="streams"/>, then each stream.</summary>
    public static void Write<T>(ModelSaveContext ctx, T header, IReadOnlyList<(string Name, byte[] Content)> streams)
    {
        var json = JsonSerializer.Serialize(header, JsonFormat.Options);
        ctx.Writer.Write(json);
        ctx.Writer.Write(JsonSerializer.Serialize(IntegrityRecord.Of(json, streams), JsonFormat.Options));
        foreach (var (name, content) in streams)
            ctx.SaveBinaryStream(name, writer => writer.Write(content));
    }

    /// <summary>
    /// Reads the header of a model stream. With <paramref name="hashed"/> (format versions that write an integrity record)
    /// the record is read too and the header checked against it before it is parsed. The model stream must end there.
    /// Any damage becomes an <see cref="InvalidDataException"/> naming the zip entry.
    /// </summary>
    public static StoredModel<T> Read<T>(ModelLoadContext ctx, string what, bool hashed) where T : class
    {
        var entry = StoredModel<T>.EntryName(ctx, ModelStreamName);
        string json;
        string? recordJson = null;
        try
        {
            json = ctx.Reader.ReadString();
            if (hashed)
                recordJson = ctx.Reader.ReadString();
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or FormatException)
        {
            throw ModelDamage.At(entry, $"ends inside its {what} header ({ex.Message})", ex);
        }
        var end = ctx.FpMin + ctx.Header.FpModel + ctx.Header.CbModel;
        if (ctx.Reader.BaseStream.Position != end)
            throw ModelDamage.At(entry, $"does not end after its {what} header: its format version or its header's length was altered");

        IntegrityRecord? record = null;
        if (recordJson is not null)
        {
            record = ReadRecord(entry, recordJson);
            var actual = IntegrityRecord.Hash(Encoding.UTF8.GetBytes(json));
            if (!string.Equals(actual, record.Header, StringComparison.Ordinal))
                throw ModelDamage.At(entry, $"holds a {what} header that does not match the SHA-256 recorded when the model was saved " +
                                            $"(recorded {ModelDamage.Short(record.Header)}, found {ModelDamage.Short(actual)}): the file was changed after it was saved");
        }

        T header;
        try
        {
            header = JsonSerializer.Deserialize<T>(json, JsonFormat.Options) ?? throw new JsonException("the header is null");
        }
        catch (Exception ex) when (ex is JsonException or FormatException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw ModelDamage.At(entry, $"holds a {what} header that cannot be read: {ex.Message}", ex);
        }
        return new StoredModel<T>(ctx, header, record);
    }

    private static IntegrityRecord ReadRecord(string entry, string json)
    {
        IntegrityRecord? record;
        try
        {
            record = JsonSerializer.Deserialize<IntegrityRecord>(json, JsonFormat.Options);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException)
        {
            throw ModelDamage.At(entry, $"holds an integrity record that cannot be read: {ex.Message}", ex);
        }
        if (record is null || record.Algorithm != IntegrityRecord.Sha256 || record.Header is null || record.Streams is null)
            throw ModelDamage.At(entry, $"holds an integrity record without a {IntegrityRecord.Sha256} of its header and streams");
        return record;
    }
}

/// <summary>
/// One model stream as loaded: its header (already checked against the integrity record when the format version has one)
/// and its binary streams, each read whole and verified the same way.
/// </summary>
internal sealed class StoredModel<T>
{
    private readonly ModelLoadContext _ctx;
    private readonly IntegrityRecord? _record;

    internal StoredModel(ModelLoadContext ctx, T header, IntegrityRecord? record)
    {
        _ctx = ctx;
        Header = header;
        _record = record;
    }

    /// <summary>The parsed header.</summary>
    public T Header { get; }

    /// <summary>Whether the header and streams are verified against an integrity record (format versions that write one).</summary>
    public bool IsHashed => _record is not null;

    /// <summary>The zip entry of the model stream, e.g. <c>TransformerChain/Model.key</c>.</summary>
    public string HeaderEntry => EntryName(_ctx, JsonHeader.ModelStreamName);

    /// <summary>The zip entry of stream <paramref name="name"/> beside the model stream.</summary>
    public string Entry(string name) => EntryName(_ctx, name);

    /// <summary>An error naming the model stream's entry: <c>The model is damaged: zip entry '…/Model.key' {problem}.</c></summary>
    public InvalidDataException HeaderDamaged(string problem, Exception? inner = null) => ModelDamage.At(HeaderEntry, problem, inner);

    /// <summary>
    /// The whole content of binary stream <paramref name="name"/> (<paramref name="description"/> says what it holds, for
    /// messages), verified against the integrity record when there is one. A missing stream, or one the record does not
    /// list or does not match, is an <see cref="InvalidDataException"/> naming the entry.
    /// </summary>
    public byte[] ReadStream(string name, string description)
    {
        var entry = $"'{Entry(name)}' ({description})";
        byte[]? content = null;
        string? expected = null;
        if (_record is not null && !_record.Streams.TryGetValue(name, out expected))
            throw ModelDamage.At(HeaderEntry, $"has an integrity record that does not list the stream {entry}");
        bool found;
        try
        {
            found = _ctx.TryLoadBinaryStream(name, reader => content = ReadAll(reader.BaseStream));
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or NotSupportedException)
        {
            throw ModelDamage.At(Entry(name), $"({description}) cannot be read: {ex.Message}", ex);
        }
        if (!found || content is null)
            throw ModelDamage.At(Entry(name), $"({description}) is missing: the zip is incomplete");
        if (expected is not null)
        {
            var actual = IntegrityRecord.Hash(content);
            if (!string.Equals(actual, expected, StringComparison.Ordinal))
                throw ModelDamage.At(Entry(name), $"({description}) does not match the SHA-256 recorded when the model was saved " +
                                                  $"(recorded {ModelDamage.Short(expected)}, found {ModelDamage.Short(actual)}): the file was changed after it was saved");
        }
        return content;
    }

    internal static string EntryName(ModelLoadContext ctx, string name)
        => (string.IsNullOrEmpty(ctx.Directory) ? name : ctx.Directory + "/" + name).Replace('\\', '/');

    private static byte[] ReadAll(Stream stream)
    {
        if (stream.CanSeek)
        {
            var remaining = stream.Length - stream.Position;
            if (remaining > Array.MaxLength)
                throw new InvalidDataException($"it holds {remaining:N0} bytes, more than one array can hold");
            var bytes = new byte[remaining];
            stream.ReadExactly(bytes);
            return bytes;
        }
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}

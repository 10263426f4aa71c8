using System;
using System.IO;
using System.Text.Json;
using Microsoft.ML;

namespace ML.DeepExtensions.Persistence;

/// <summary>The JSON header every transformer of this family writes first in its model stream.</summary>
internal static class JsonHeader
{
    public static void Write<T>(ModelSaveContext ctx, T header)
        => ctx.Writer.Write(JsonSerializer.Serialize(header, JsonFormat.Options));

    /// <summary>Reads the header, turning any damage into an <see cref="InvalidDataException"/> naming <paramref name="what"/>.</summary>
    public static T Read<T>(ModelLoadContext ctx, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(ctx.Reader.ReadString(), JsonFormat.Options)
                ?? throw new InvalidDataException($"The {what} header is empty.");
        }
        catch (Exception ex) when (ex is JsonException or EndOfStreamException or FormatException)
        {
            throw new InvalidDataException($"The model's {what} header is damaged: {ex.Message}", ex);
        }
    }
}

using System;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// Writes and reads <see cref="Layer"/>s polymorphically through <see cref="LayerRegistry"/>:
/// <c>{"type":"Normalize","assembly":"ML.DeepExtensions.Vision","mean":[…],"std":[…]}</c>. The registry is consulted on
/// every call (nothing is cached in the serializer options), so a layer kind registered after the first network was
/// written or read works as well. <c>assembly</c> is written only for layers declared outside the core package.
/// </summary>
internal sealed class LayerJsonConverter : JsonConverter<Layer>
{
    public const string TypeProperty = "type";
    public const string AssemblyProperty = "assembly";

    public override Layer Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var element = document.RootElement;
        if (element.ValueKind != JsonValueKind.Object)
            throw new JsonException($"A layer must be a JSON object with a \"{TypeProperty}\" property; received {element.ValueKind}.");
        if (!element.TryGetProperty(TypeProperty, out var typeName) || typeName.ValueKind != JsonValueKind.String || typeName.GetString() is not { Length: > 0 } name)
            throw new JsonException($"A layer has no \"{TypeProperty}\" naming its kind. Registered: {string.Join(", ", LayerRegistry.TypeNames)}.");
        var assembly = element.TryGetProperty(AssemblyProperty, out var origin) && origin.ValueKind == JsonValueKind.String ? origin.GetString() : null;
        var type = LayerRegistry.Resolve(name, string.IsNullOrWhiteSpace(assembly) ? null : assembly);
        return (Layer?)element.Deserialize(type, options) ?? throw new JsonException($"Layer '{name}' is null.");
    }

    public override void Write(Utf8JsonWriter writer, Layer value, JsonSerializerOptions options)
    {
        var type = value.GetType();
        var name = LayerRegistry.TypeNameOf(type) ?? throw new InvalidOperationException(
            $"Layer class {type.FullName} is not registered, so a network using it cannot be saved. Register it once per process, " +
            $"e.g. from a [ModuleInitializer] of its assembly: LayerRegistry.Register<{type.Name}>(\"{SuggestedName(type)}\").");
        writer.WriteStartObject();
        writer.WriteString(TypeProperty, name);
        if (LayerRegistry.AssemblyOf(type) is { } assembly)
            writer.WriteString(AssemblyProperty, assembly);
        using (var properties = JsonSerializer.SerializeToDocument(value, type, options))
        {
            foreach (var property in properties.RootElement.EnumerateObject())
                property.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    private static string SuggestedName(Type type)
        => type.Name.EndsWith("Layer", StringComparison.Ordinal) && type.Name.Length > "Layer".Length ? type.Name[..^"Layer".Length] : type.Name;
}

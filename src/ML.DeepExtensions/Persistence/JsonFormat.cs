using System;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ML.DeepExtensions.Networks;

namespace ML.DeepExtensions.Persistence;

/// <summary>The JSON settings of every file this project writes (model headers, checkpoints, networks).</summary>
internal static class JsonFormat
{
    /// <summary>camelCase names, enums as strings, NaN/∞ allowed (metrics can be NaN), layers polymorphic by <c>type</c>.</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { DescribeLayerHierarchy } },
    };

    /// <summary>Every concrete <see cref="Layer"/> of this assembly, discriminated by its class name without "Layer".</summary>
    private static readonly JsonDerivedType[] LayerTypes = typeof(Layer).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(Layer)) && !t.IsAbstract)
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .Select(t => new JsonDerivedType(t, LayerTypeName(t)))
        .ToArray();

    /// <summary>The JSON <c>type</c> of a layer class: <c>ConvolutionLayer</c> → <c>Convolution</c>.</summary>
    public static string LayerTypeName(Type layerType)
        => layerType.Name.EndsWith("Layer", StringComparison.Ordinal) ? layerType.Name[..^"Layer".Length] : layerType.Name;

    private static void DescribeLayerHierarchy(JsonTypeInfo info)
    {
        if (info.Type != typeof(Layer))
            return;
        info.PolymorphismOptions = new JsonPolymorphismOptions
        {
            TypeDiscriminatorPropertyName = "type",
            UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization,
        };
        foreach (var derived in LayerTypes)
            info.PolymorphismOptions.DerivedTypes.Add(derived);
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ML.DeepExtensions.Networks;

namespace ML.DeepExtensions;

/// <summary>The JSON settings of every file this project writes (model headers, checkpoints, networks).</summary>
internal static class JsonFormat
{
    /// <summary>camelCase names, enums as strings, NaN/∞ allowed (metrics can be NaN), layers polymorphic by <c>type</c>
    /// through <see cref="LayerRegistry"/>.</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(), new LayerJsonConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };
}

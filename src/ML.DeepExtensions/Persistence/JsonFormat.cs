using System.Text.Json;
using System.Text.Json.Serialization;

namespace ML.DeepExtensions.Persistence;

/// <summary>The JSON settings of every file this project writes (model headers, checkpoints, networks).</summary>
internal static class JsonFormat
{
    /// <summary>camelCase names, enums as strings, NaN/∞ allowed (metrics can be NaN).</summary>
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

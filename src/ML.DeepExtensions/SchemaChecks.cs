using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions;

/// <summary>
/// Input-column checks with ML.NET's message shape: <c>Schema mismatch for feature column 'Features':
/// expected a known-size vector of Single, got String</c>. All throw <see cref="ArgumentOutOfRangeException"/>
/// with the schema as parameter, like ML.NET's own components.
/// </summary>
internal static class SchemaChecks
{
    /// <summary>Returns the column or throws if it is absent (listing the columns that exist).</summary>
    public static DataViewSchema.Column Find(DataViewSchema schema, string role, string name)
    {
        var column = schema.GetColumnOrNull(name);
        if (column is null)
        {
            var available = string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}'"));
            throw new ArgumentOutOfRangeException(nameof(schema), $"{role} column '{name}' not found in the input. Available columns: {available}.");
        }
        return column.Value;
    }

    /// <summary>A known-size numeric vector (see <see cref="FeatureVectors"/>); when <paramref name="size"/> is given it must match.</summary>
    public static int FeatureVector(DataViewSchema schema, string name, int? size = null)
    {
        var column = Find(schema, "Feature", name);
        var expected = size is { } s ? $"{FeatureVectors.AcceptedTypes} with {s} values" : FeatureVectors.AcceptedTypes;
        if (column.Type is not VectorDataViewType { IsKnownSize: true } vector || !FeatureVectors.IsAccepted(vector.ItemType))
            throw Mismatch("feature", name, expected, column.Type);
        if (size is { } required && vector.Size != required)
            throw Mismatch("feature", name, expected, column.Type);
        return vector.Size;
    }

    public static ArgumentOutOfRangeException Mismatch(string role, string name, string expected, DataViewType received)
        => new(nameof(DataViewSchema), $"Schema mismatch for {role} column '{name}': expected {expected}, got {Describe(received)}.");

    public static string Describe(DataViewType type) => type switch
    {
        VectorDataViewType { IsKnownSize: true } v => $"a vector of {v.ItemType} with {v.Size} values",
        VectorDataViewType v => $"a variable-size vector of {v.ItemType}",
        KeyDataViewType k => $"a key of {k.Count} values",
        _ => type.ToString() ?? type.GetType().Name,
    };
}

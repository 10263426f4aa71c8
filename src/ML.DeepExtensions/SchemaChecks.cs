using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions;

/// <summary>
/// Input-column checks with ML.NET's message shape: <c>Schema mismatch for feature column 'Features':
/// expected a known-size vector of Single, got String</c>. All throw <see cref="ArgumentOutOfRangeException"/>
/// with the schema as parameter, like ML.NET's own components. Each check exists for both schema forms — the
/// data's <see cref="DataViewSchema"/> (<c>Fit</c>, <c>Transform</c>) and an estimator's <see cref="SchemaShape"/>
/// (<c>GetOutputSchema</c>) — with the same message wherever the shape carries the same information.
/// </summary>
internal static class SchemaChecks
{
    /// <summary>Returns the column or throws if it is absent (listing the columns that exist).</summary>
    public static DataViewSchema.Column Find(DataViewSchema schema, string role, string name)
    {
        var column = schema.GetColumnOrNull(name);
        if (column is null)
            throw NotFound(role, name, schema.Where(c => !c.IsHidden).Select(c => c.Name));
        return column.Value;
    }

    /// <summary>Returns the column of the shape or throws as <see cref="Find(DataViewSchema, string, string)"/> does.</summary>
    public static SchemaShape.Column Find(SchemaShape schema, string role, string name)
    {
        if (!schema.TryFindColumn(name, out var column))
            throw NotFound(role, name, schema.Select(c => c.Name));
        return column;
    }

    /// <summary>A known-size numeric vector (see <see cref="FeatureVectors"/>); when <paramref name="size"/> is given it must match.</summary>
    public static int FeatureVector(DataViewSchema schema, string name, int? size = null, string role = "feature")
    {
        var column = Find(schema, Capitalized(role), name);
        // A wrong type is reported exactly as the shape form reports it; a wrong size (which only data knows) names the size.
        if (column.Type is not VectorDataViewType { IsKnownSize: true } vector || !FeatureVectors.IsAccepted(vector.ItemType))
            throw Mismatch(role, name, FeatureVectors.AcceptedTypes, column.Type);
        if (size is { } required && vector.Size != required)
            throw Mismatch(role, name, $"{FeatureVectors.AcceptedTypes} with {required} values", column.Type);
        return vector.Size;
    }

    /// <summary>The shape form of <see cref="FeatureVector(DataViewSchema, string, int?, string)"/>.</summary>
    public static void FeatureVector(SchemaShape schema, string name, string role = "feature")
    {
        var column = Find(schema, Capitalized(role), name);
        if (column.Kind != SchemaShape.Column.VectorKind.Vector || !FeatureVectors.IsAccepted(column.ItemType))
            throw Mismatch(role, name, FeatureVectors.AcceptedTypes, Describe(column));
    }

    public static ArgumentOutOfRangeException Mismatch(string role, string name, string expected, DataViewType received)
        => Mismatch(role, name, expected, Describe(received));

    public static ArgumentOutOfRangeException Mismatch(string role, string name, string expected, string received)
        => new(nameof(DataViewSchema), $"Schema mismatch for {role} column '{name}': expected {expected}, got {received}.");

    public static string Describe(DataViewType type) => type switch
    {
        VectorDataViewType { IsKnownSize: true } v => $"a vector of {ItemName(v.ItemType)} with {v.Size} values",
        VectorDataViewType v => $"a variable-size vector of {ItemName(v.ItemType)}",
        _ => ItemName(type),
    };

    /// <summary>A shape column described like <see cref="Describe(DataViewType)"/> (shapes carry no vector sizes nor key counts).</summary>
    public static string Describe(SchemaShape.Column column) => column.Kind switch
    {
        SchemaShape.Column.VectorKind.Vector => $"a known-size vector of {ItemName(column.ItemType)}",
        SchemaShape.Column.VectorKind.VariableVector => $"a variable-size vector of {ItemName(column.ItemType)}",
        _ => ItemName(column.ItemType),
    };

    private static string ItemName(DataViewType type) => type is KeyDataViewType key
        ? $"a key of {(key.Count == 0 ? "unknown count" : $"{key.Count} values")} ({key.RawType.Name})"
        : type.ToString() ?? type.GetType().Name;

    private static string Capitalized(string role) => role.Length == 0 ? role : char.ToUpperInvariant(role[0]) + role[1..];

    private static ArgumentOutOfRangeException NotFound(string role, string name, System.Collections.Generic.IEnumerable<string> columns)
    {
        var available = string.Join(", ", columns.Distinct().Select(c => $"'{c}'"));
        return new ArgumentOutOfRangeException(nameof(DataViewSchema), $"{Capitalized(role)} column '{name}' not found in the input. Available columns: {available}.");
    }
}

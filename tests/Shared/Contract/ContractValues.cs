using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.TestSupport.Contract;

/// <summary>Schemas and values as the contract compares them: schema shapes, bad schemas, and cells read from any column.</summary>
internal static class ContractValues
{
    private static readonly MethodInfo CreateShape = typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.NonPublic, [typeof(DataViewSchema)])
        ?? throw new MissingMethodException("SchemaShape.Create(DataViewSchema) not found in this ML.NET version.");

    /// <summary>What <c>GetOutputSchema(SchemaShape)</c> receives for data of <paramref name="schema"/> (ML.NET's own conversion, visible columns only).</summary>
    public static SchemaShape Shape(DataViewSchema schema) => (SchemaShape)CreateShape.Invoke(null, [schema])!;

    /// <summary>Every difference between a predicted and a fitted schema shape: columns, vector kind, item type, key-ness, annotations.</summary>
    public static List<string> Differences(SchemaShape predicted, SchemaShape fitted)
    {
        var problems = new List<string>();
        var expected = predicted.ToDictionary(c => c.Name);
        var actual = fitted.ToDictionary(c => c.Name);
        foreach (var name in expected.Keys.Union(actual.Keys).OrderBy(n => n, StringComparer.Ordinal))
        {
            if (!expected.TryGetValue(name, out var p))
            {
                problems.Add($"'{name}' ({Describe(actual[name])}) is in the fitted schema but GetOutputSchema did not predict it");
                continue;
            }
            if (!actual.TryGetValue(name, out var a))
            {
                problems.Add($"'{name}' ({Describe(p)}) was predicted but the fitted schema has no such column");
                continue;
            }
            // DataViewType.Equals(DataViewType), not object.Equals: ML.NET's ImageDataViewType does not override the latter.
            if (p.Kind != a.Kind || !p.ItemType.Equals(a.ItemType) || p.IsKey != a.IsKey)
                problems.Add($"'{name}': predicted {Describe(p)}, fitted {Describe(a)}");
            var missing = p.Annotations.Select(m => m.Name).Except(a.Annotations.Select(m => m.Name)).ToArray();
            if (missing.Length > 0)
                problems.Add($"'{name}': predicted annotations [{string.Join(", ", missing)}] are not on the fitted column (it has [{string.Join(", ", a.Annotations.Select(m => m.Name))}])");
        }
        return problems;
    }

    public static string Describe(SchemaShape.Column column)
        => $"{column.Kind} of {column.ItemType}{(column.IsKey ? " (key)" : "")}";

    /// <summary><paramref name="data"/> without <paramref name="column"/>.</summary>
    public static IDataView WithoutColumn(MLContext mlContext, IDataView data, string column)
        => mlContext.Transforms.DropColumns(column).Fit(data).Transform(data);

    /// <summary>
    /// <paramref name="data"/> with <paramref name="column"/> replaced by a scalar of a wrong type: Single for a text column,
    /// String otherwise. Returns the name the error should give the received type.
    /// </summary>
    public static (IDataView Data, string Received) WithWrongType(MLContext mlContext, IDataView data, string column)
    {
        if (data.Schema[column].Type is TextDataViewType)
        {
            var number = SchemaDefinition.Create(typeof(NumberValue));
            number[0].ColumnName = column;
            var mapped = mlContext.Transforms.CustomMapping<NoColumns, NumberValue>((_, o) => o.Value = 1.5f, contractName: null, outputSchemaDefinition: number);
            return (mapped.Fit(data).Transform(data), "Single");
        }
        var text = SchemaDefinition.Create(typeof(TextValue));
        text[0].ColumnName = column;
        var mappedText = mlContext.Transforms.CustomMapping<NoColumns, TextValue>((_, o) => o.Value = "not the expected type", contractName: null, outputSchemaDefinition: text);
        return (mappedText.Fit(data).Transform(data), "String");
    }

    /// <summary>Columns of <paramref name="output"/> that a transformer added or replaced and that a binary data file can hold.</summary>
    public static string[] AddedColumns(DataViewSchema input, DataViewSchema output)
        => output.Where(c => !c.IsHidden && IsStorable(c.Type)
                             && (input.GetColumnOrNull(c.Name) is not { } old || old.Index != c.Index || !old.Type.Equals(c.Type)))
            .Select(c => c.Name)
            .ToArray();

    public static bool IsStorable(DataViewType type)
        => type is VectorDataViewType vector ? IsStorableItem(vector.ItemType) : IsStorableItem(type);

    private static bool IsStorableItem(DataViewType type)
        => type is NumberDataViewType or TextDataViewType or BooleanDataViewType or KeyDataViewType;

    /// <summary>The raw values of a column (first <paramref name="maxRows"/> rows), each read into a fresh buffer.</summary>
    public static List<object?> Raw(IDataView data, DataViewSchema.Column column, int maxRows = int.MaxValue)
        => (List<object?>)ReadRawMethod.MakeGenericMethod(column.Type.RawType).Invoke(null, BindingFlags.DoNotWrapExceptions, null, [data, column, maxRows], null)!;

    /// <summary>The values of a column as comparable cells: scalars boxed (text as string), vectors as arrays of their dense values.</summary>
    public static List<object?> Cells(IDataView data, string column, int maxRows = int.MaxValue)
        => Raw(data, data.Schema[column], maxRows).Select(Cell).ToList();

    /// <summary>A raw value (VBuffer, ReadOnlyMemory&lt;char&gt;, number …) as a comparable cell.</summary>
    public static object? Cell(object? raw)
    {
        if (raw is ReadOnlyMemory<char> text)
            return text.ToString();
        if (raw is not null && raw.GetType().IsGenericType && raw.GetType().GetGenericTypeDefinition() == typeof(VBuffer<>))
            return DenseMethod.MakeGenericMethod(raw.GetType().GetGenericArguments()[0]).Invoke(null, [raw]);
        return raw;
    }

    /// <summary>Same value bit for bit (floating-point values compared by their bits).</summary>
    public static bool SameBits(object? a, object? b) => (a, b) switch
    {
        (float x, float y) => BitConverter.SingleToInt32Bits(x) == BitConverter.SingleToInt32Bits(y),
        (double x, double y) => BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y),
        (object?[] x, object?[] y) => x.Length == y.Length && x.Zip(y).All(p => SameBits(p.First, p.Second)),
        _ => Equals(a, b),
    };

    /// <summary>Equal, floating-point values within <paramref name="tolerance"/> (absolute, or relative above 1).</summary>
    public static bool Close(object? a, object? b, double tolerance) => (a, b) switch
    {
        (float x, float y) => Close((double)x, (double)y, tolerance),
        (double x, double y) => (double.IsNaN(x) && double.IsNaN(y)) || Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Max(Math.Abs(x), Math.Abs(y))),
        (object?[] x, object?[] y) => x.Length == y.Length && x.Zip(y).All(p => Close(p.First, p.Second, tolerance)),
        _ => Equals(a, b),
    };

    /// <summary>The first difference between two columns of cells, or null when <paramref name="same"/> holds for every row.</summary>
    public static string? FirstDifference(IReadOnlyList<object?> expected, IReadOnlyList<object?> actual, Func<object?, object?, bool> same)
    {
        if (expected.Count != actual.Count)
            return $"{expected.Count} rows expected, {actual.Count} received";
        for (var i = 0; i < expected.Count; i++)
        {
            if (!same(expected[i], actual[i]))
                return $"row {i}: expected {Show(expected[i])}, received {Show(actual[i])}";
        }
        return null;
    }

    public static string Show(object? cell) => cell switch
    {
        null => "null",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        string s => $"\"{s}\"",
        object?[] a => $"[{string.Join(", ", a.Take(8).Select(Show))}{(a.Length > 8 ? $", … ({a.Length} values)" : "")}]",
        _ => Convert.ToString(cell, CultureInfo.InvariantCulture) ?? "?",
    };

    private static readonly MethodInfo ReadRawMethod = typeof(ContractValues).GetMethod(nameof(ReadRaw), BindingFlags.Static | BindingFlags.NonPublic)!;
    private static readonly MethodInfo DenseMethod = typeof(ContractValues).GetMethod(nameof(Dense), BindingFlags.Static | BindingFlags.NonPublic)!;

    private static List<object?> ReadRaw<T>(IDataView data, DataViewSchema.Column column, int maxRows)
    {
        var values = new List<object?>();
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<T>(column);
        while (values.Count < maxRows && cursor.MoveNext())
        {
            T value = default!;
            getter(ref value);
            values.Add(value);
        }
        return values;
    }

    private static object?[] Dense<T>(VBuffer<T> vector) => vector.DenseValues().Select(v => Cell(v)).ToArray();

    internal sealed class NoColumns
    {
    }

    internal sealed class NumberValue
    {
        public float Value { get; set; }
    }

    internal sealed class TextValue
    {
        public string Value { get; set; } = "";
    }
}

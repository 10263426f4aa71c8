using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// The type of a classifier's class values — the label's key values (<c>MapValueToKey</c> of a String, a UInt32, a
/// Single …) — so that <c>PredictedLabel</c> maps back (<c>MapKeyToValue</c>) to values of that same type. Class names
/// are kept as invariant text (in the model header too) with the raw type's name beside them; other key-value types
/// keep their text form.
/// </summary>
internal static class ClassValues
{
    /// <summary>The name of text class values (and of anything without a typed form).</summary>
    public const string Text = "String";

    private static readonly Dictionary<string, PrimitiveDataViewType> Types = new PrimitiveDataViewType[]
    {
        TextDataViewType.Instance, BooleanDataViewType.Instance,
        NumberDataViewType.Single, NumberDataViewType.Double, NumberDataViewType.Byte, NumberDataViewType.SByte,
        NumberDataViewType.Int16, NumberDataViewType.UInt16, NumberDataViewType.Int32, NumberDataViewType.UInt32,
        NumberDataViewType.Int64, NumberDataViewType.UInt64,
    }.ToDictionary(t => t == TextDataViewType.Instance ? Text : t.RawType.Name, StringComparer.Ordinal);

    /// <summary>The stored name of key values of item type <paramref name="itemType"/>.</summary>
    public static string NameOf(DataViewType itemType)
        => Types.FirstOrDefault(kv => kv.Value.Equals(itemType)).Key ?? Text;

    /// <summary>A value's text form, invariant and round-trippable.</summary>
    public static string ToText(object? value) => value switch
    {
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>Why <paramref name="names"/> cannot be class values of type <paramref name="typeName"/>, or null.</summary>
    public static string? Problem(string typeName, IReadOnlyList<string> names)
    {
        if (!Types.TryGetValue(typeName, out var type))
            return $"has a header whose class value type '{typeName}' is not one of {string.Join(", ", Types.Keys)}";
        var bad = names.FirstOrDefault(n => !TryParse(n, type.RawType, out _));
        return bad is null ? null : $"has a header whose class name '{bad}' is not a {typeName}";
    }

    /// <summary>Adds <paramref name="names"/> as key values of type <paramref name="typeName"/> (already checked by <see cref="Problem"/>).</summary>
    public static void AddKeyValues(DataViewSchema.Annotations.Builder annotations, string typeName, string[] names)
    {
        var type = Types[typeName];
        typeof(ClassValues).GetMethod(nameof(AddTyped), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(type.RawType).Invoke(null, [annotations, type, names]);
    }

    private static void AddTyped<T>(DataViewSchema.Annotations.Builder annotations, PrimitiveDataViewType type, string[] names)
    {
        var values = names.Select(n => TryParse(n, typeof(T), out var v) ? (T)v! : throw new FormatException($"Class name '{n}' is not a {type}.")).ToArray();
        annotations.AddKeyValues(values.Length, type, (ref VBuffer<T> v) => v = new VBuffer<T>(values.Length, (T[])values.Clone()));
    }

    private static bool TryParse(string text, Type rawType, out object? value)
    {
        if (rawType == typeof(ReadOnlyMemory<char>))
        {
            value = text.AsMemory();
            return true;
        }
        try
        {
            value = Convert.ChangeType(text, rawType, CultureInfo.InvariantCulture);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or InvalidCastException)
        {
            value = null;
            return false;
        }
    }
}

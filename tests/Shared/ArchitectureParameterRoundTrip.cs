using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using ML.DeepExtensions.Networks;
using Xunit;

namespace ML.DeepExtensions.TestSupport;

/// <summary>typed → stored strings → typed, for any architecture parameter class, with every property moved off its default.</summary>
internal static class ArchitectureParameterRoundTrip
{
    public static void Check(Type type)
    {
        var defaults = Activator.CreateInstance(type)!;
        var changed = Activator.CreateInstance(type)!;
        var properties = type.GetProperties().Where(p => p.CanWrite).ToArray();
        Assert.NotEmpty(properties);
        foreach (var property in properties)
            property.SetValue(changed, OtherValue(property.PropertyType, property.GetValue(defaults)));

        var stored = StoredForm(type, changed);
        var declared = (IReadOnlyList<ArchitectureParameterInfo>)Generic(nameof(ArchitectureParameters.Describe), type).Invoke(null, null)!;
        Assert.Equal(declared.Select(p => p.Name), stored.Keys);                       // every parameter written, in declared order
        Assert.All(declared, p => Assert.NotEqual(p.DefaultValue, stored[p.Name]));   // ... with a value that is not its default

        var bound = Bind(type, stored);
        foreach (var property in properties)
            Assert.Equal(Normalize(property.GetValue(changed)), Normalize(property.GetValue(bound)));
        Assert.Equal(stored, StoredForm(type, bound));

        // The defaults round-trip too, and an empty stored set binds to the defaults.
        Assert.Equal(StoredForm(type, defaults), StoredForm(type, Bind(type, StoredForm(type, defaults))));
        Assert.Equal(StoredForm(type, defaults), StoredForm(type, Bind(type, new Dictionary<string, string>())));
    }

    /// <summary><see cref="ArchitectureParameters.From{TParameters}"/> for a type known at run time.</summary>
    public static IReadOnlyDictionary<string, string> StoredForm(Type type, object parameters)
        => ((ArchitectureParameters)Generic(nameof(ArchitectureParameters.From), type).Invoke(null, [parameters])!).Values;

    private static object Bind(Type type, IReadOnlyDictionary<string, string> stored)
        => typeof(ArchitectureParameters).GetMethod(nameof(ArchitectureParameters.Bind), Type.EmptyTypes)!.MakeGenericMethod(type).Invoke(new ArchitectureParameters(stored), null)!;

    private static System.Reflection.MethodInfo Generic(string name, Type type)
        => typeof(ArchitectureParameters).GetMethods().Single(m => m.Name == name && m.IsStatic).MakeGenericMethod(type);

    private static object? Normalize(object? value) => value is IEnumerable list and not string ? string.Join(",", list.Cast<object>()) : value;

    /// <summary>A value of <paramref name="type"/> different from <paramref name="current"/>.</summary>
    private static object OtherValue(Type type, object? current)
    {
        var valueType = Nullable.GetUnderlyingType(type) ?? type;
        return valueType switch
        {
            _ when valueType == typeof(int) => (int)(current ?? 0) + 3,
            _ when valueType == typeof(long) => (long)(current ?? 0L) + 3,
            _ when valueType == typeof(double) => (double)(current ?? 0.0) + 0.375,
            _ when valueType == typeof(float) => (float)(current ?? 0f) + 0.375f,
            _ when valueType == typeof(bool) => !(bool)(current ?? false),
            _ when valueType == typeof(string) => (string?)current + "x",
            _ when valueType == typeof(int[]) => new[] { 3, 1, 4, 1 },
            { IsEnum: true } => Enum.GetValues(valueType).Cast<object>().First(v => !v.Equals(current)),
            _ => throw new NotSupportedException($"No test value for {type.Name}."),
        };
    }
}

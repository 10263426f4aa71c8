using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// Marks a property of a typed architecture parameter class (see
/// <see cref="ArchitectureRegistry.Register{TParameters}(string, Func{TParameters, int[], Network})"/>) and describes it.
/// Every public settable property of such a class is a stored parameter and needs this attribute; its initializer is
/// the default. The stored name is the property name with a lower-case first letter (<c>PoolSize</c> → <c>poolSize</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class ArchitectureParameterAttribute : Attribute
{
    /// <summary>Describes the parameter.</summary>
    /// <param name="description">What the parameter means and its valid range, as one short sentence; the default is added from the initializer.</param>
    public ArchitectureParameterAttribute(string description) => Description = description;

    /// <summary>What the parameter means and its valid range.</summary>
    public string Description { get; }

    /// <summary>
    /// Writes a <see cref="bool"/> as <c>1</c>/<c>0</c> instead of <c>true</c>/<c>false</c> (both forms are always
    /// read): what networks saved before typed parameters store for this parameter, so their JSON stays the same.
    /// </summary>
    public bool WriteBoolAsDigit { get; set; }
}

/// <summary>One declared parameter of a typed architecture.</summary>
/// <param name="Name">The stored name, e.g. <c>width</c> (case-insensitive when read).</param>
/// <param name="Type">The property type, e.g. <see cref="double"/>, <c>int[]</c> or <c>int?</c>.</param>
/// <param name="DefaultValue">The default as stored (invariant culture); <c>null</c> when the default is unset (null).</param>
/// <param name="Description">What the parameter means, from its <see cref="ArchitectureParameterAttribute"/>.</param>
public sealed record ArchitectureParameterInfo(string Name, Type Type, string? DefaultValue, string Description)
{
    /// <summary>The description with the default, e.g. <c>Units of the two hidden Linear layers (default 4096).</c></summary>
    public override string ToString()
        => DefaultValue is null ? Description : $"{Description.TrimEnd().TrimEnd('.')} (default {DefaultValue}).";
}

/// <summary>
/// Binds the stored string parameters of an architecture to a parameter class and back. Built once per class (the
/// class is checked then: every public settable property described, of a supported type); properties are written
/// in declaration order, base class first, so the stored form is stable.
/// </summary>
internal sealed class ArchitectureParameterBinding
{
    private static readonly ConcurrentDictionary<Type, ArchitectureParameterBinding> Bindings = new();

    private static readonly Type[] Supported = [typeof(int), typeof(long), typeof(double), typeof(float), typeof(bool), typeof(string), typeof(int[])];

    private readonly Type _type;
    private readonly Parameter[] _parameters;
    private readonly Dictionary<string, Parameter> _byName;

    private ArchitectureParameterBinding(Type type)
    {
        _type = type;
        if (type.IsAbstract || type.GetConstructor(Type.EmptyTypes) is null)
            throw new InvalidOperationException($"Architecture parameter class {type.Name} must be a concrete class with a public parameterless constructor.");
        _parameters = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.SetMethod is { IsPublic: true } && p.GetMethod is { IsPublic: true })
            .OrderBy(p => Depth(p.DeclaringType!))
            .ThenBy(p => p.MetadataToken)
            .Select(p => Describe(type, p))
            .ToArray();
        _byName = new Dictionary<string, Parameter>(StringComparer.OrdinalIgnoreCase);
        foreach (var parameter in _parameters)
        {
            if (!_byName.TryAdd(parameter.Name, parameter))
                throw new InvalidOperationException($"Architecture parameter class {type.Name} declares '{parameter.Name}' twice (names are case-insensitive).");
        }
        var defaults = Activator.CreateInstance(type)!;
        Parameters = _parameters
            .Select(p => new ArchitectureParameterInfo(p.Name, p.Property.PropertyType, p.Property.GetValue(defaults) is { } value ? p.Format(value) : null, p.Attribute.Description))
            .ToArray();
    }

    /// <summary>The declared parameters in stored order.</summary>
    public IReadOnlyList<ArchitectureParameterInfo> Parameters { get; }

    /// <summary>The binding of <paramref name="type"/>, checking the class the first time.</summary>
    /// <exception cref="InvalidOperationException">A property has no description or a type that cannot be stored.</exception>
    public static ArchitectureParameterBinding For(Type type) => Bindings.GetOrAdd(type, t => new ArchitectureParameterBinding(t));

    /// <summary>A new parameter object: defaults, overwritten by <paramref name="values"/>.</summary>
    /// <param name="values">Stored values by name (case-insensitive).</param>
    /// <param name="owner">Who the parameters belong to, for messages: <c>Architecture 'ResNet18'</c>.</param>
    /// <exception cref="ArgumentException">An unknown name (the message lists the valid ones) or a value that does not parse.</exception>
    public object Bind(IReadOnlyDictionary<string, string> values, string owner)
    {
        var unknown = values.Keys.Where(k => !_byName.ContainsKey(k)).ToArray();
        if (unknown.Length > 0)
        {
            throw new ArgumentException(
                $"{owner} has no parameter {string.Join(", ", unknown.Select(u => $"'{u}'"))}. " +
                $"Valid parameters: {string.Join(", ", _parameters.Select(p => p.Name))}. " +
                $"Received: {string.Join(", ", unknown.Select(u => $"{u}='{values[u]}'"))}", unknown[0]);
        }
        var result = Activator.CreateInstance(_type)!;
        foreach (var (name, text) in values)
        {
            var parameter = _byName[name];
            parameter.Property.SetValue(result, ParameterText.Parse(parameter.ValueType, parameter.Name, text));
        }
        return result;
    }

    /// <summary>The stored form of <paramref name="parameters"/>: every non-null value, in declaration order.</summary>
    public Dictionary<string, string> ToDictionary(object parameters)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var parameter in _parameters)
        {
            if (parameter.Property.GetValue(parameters) is { } value)
                values[parameter.Name] = parameter.Format(value);
        }
        return values;
    }

    private static int Depth(Type type)
    {
        var depth = 0;
        for (var t = type.BaseType; t is not null; t = t.BaseType)
            depth++;
        return depth;
    }

    private static Parameter Describe(Type owner, PropertyInfo property)
    {
        var attribute = property.GetCustomAttribute<ArchitectureParameterAttribute>()
            ?? throw new InvalidOperationException(
                $"{owner.Name}.{property.Name} has no [ArchitectureParameter(\"description\")]. Every public settable property of an architecture parameter class is a stored parameter and needs one.");
        var valueType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (!valueType.IsEnum && !Supported.Contains(valueType))
        {
            throw new InvalidOperationException(
                $"{owner.Name}.{property.Name} is a {property.PropertyType.Name}, which architecture parameters cannot store. " +
                "Supported: int, long, double, float, bool, string, enums, int[] and their nullable forms.");
        }
        if (attribute.WriteBoolAsDigit && valueType != typeof(bool))
            throw new InvalidOperationException($"{owner.Name}.{property.Name}: WriteBoolAsDigit applies to bool parameters only.");
        var name = char.ToLowerInvariant(property.Name[0]) + property.Name[1..];
        return new Parameter(name, property, valueType, attribute);
    }

    private sealed record Parameter(string Name, PropertyInfo Property, Type ValueType, ArchitectureParameterAttribute Attribute)
    {
        public string Format(object value) => ParameterText.Format(value, Attribute.WriteBoolAsDigit);
    }
}

/// <summary>The invariant-culture text of stored architecture parameters, and the one message for a value that does not parse.</summary>
internal static class ParameterText
{
    /// <summary>Parses <paramref name="text"/> as <paramref name="type"/> (int, long, double, float, bool as true/false or 1/0, string, an enum by name, int[] comma-separated).</summary>
    /// <exception cref="ArgumentException"><c>Architecture parameter 'width' must be a Double. Received: width='wide'</c></exception>
    public static object Parse(Type type, string name, string text)
    {
        try
        {
            return type switch
            {
                _ when type == typeof(int) => int.Parse(text, CultureInfo.InvariantCulture),
                _ when type == typeof(long) => long.Parse(text, CultureInfo.InvariantCulture),
                _ when type == typeof(double) => double.Parse(text, CultureInfo.InvariantCulture),
                _ when type == typeof(float) => float.Parse(text, CultureInfo.InvariantCulture),
                _ when type == typeof(string) => text,
                _ when type == typeof(bool) => text.Trim() switch
                {
                    "1" => true,
                    "0" => false,
                    var trimmed => bool.Parse(trimmed),
                },
                _ when type == typeof(int[]) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray(),
                { IsEnum: true } => ParseEnum(type, text),
                _ => throw new NotSupportedException($"Architecture parameters cannot store {type.Name}."),
            };
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
        {
            var choices = type.IsEnum ? $" (one of {string.Join(", ", Enum.GetNames(type))})" : "";
            throw new ArgumentException($"Architecture parameter '{name}' must be a {type.Name}{choices}. Received: {name}='{text}'", name, ex);
        }
    }

    /// <summary>The stored text of <paramref name="value"/>: invariant culture, round-trippable numbers, enum names, comma-separated lists.</summary>
    public static string Format(object value, bool boolAsDigit = false) => value switch
    {
        bool b => boolAsDigit ? (b ? "1" : "0") : (b ? "true" : "false"),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        int[] list => string.Join(",", list.Select(i => i.ToString(CultureInfo.InvariantCulture))),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static object ParseEnum(Type type, string text)
    {
        var value = Enum.Parse(type, text, ignoreCase: true);
        // Enum.Parse accepts any number; only declared members are architecture parameters.
        return Enum.IsDefined(type, value) ? value : throw new ArgumentException($"{text} is not a member of {type.Name}.");
    }
}

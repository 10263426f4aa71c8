using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace ML.DeepExtensions.Networks;

/// <summary>Builds the layers of a named architecture for a given input shape.</summary>
/// <param name="parameters">The parameters stored with the architecture (missing ones take the builder's defaults).</param>
/// <param name="inputShape">Shape of one example, without the batch dimension.</param>
public delegate Network ArchitectureBuilder(ArchitectureParameters parameters, int[] inputShape);

/// <summary>
/// Named architectures. A model zip stores the name, the parameters and the simple name of the assembly whose code
/// registered the builder. When such a model is loaded in a process where the name is not registered yet, that
/// assembly is loaded by name and its module initializer run (packages such as <c>ML.DeepExtensions.Vision</c>
/// register their architectures from a <c>[ModuleInitializer]</c>), so a model using <c>ResNet18</c> loads in a process
/// that never touched the vision package. Builders registered from application code must be registered again, by the
/// application, before such a model is loaded.
/// Built-ins: <c>Mlp</c>.
/// </summary>
public static class ArchitectureRegistry
{
    private static readonly ConcurrentDictionary<string, (ArchitectureBuilder Builder, Assembly Assembly)> Builders = new(StringComparer.OrdinalIgnoreCase);

    static ArchitectureRegistry()
    {
        Builders["Mlp"] = (BuiltInArchitectures.Mlp, typeof(ArchitectureRegistry).Assembly);
    }

    /// <summary>Names of every registered architecture.</summary>
    public static IReadOnlyCollection<string> Names => Builders.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();

    /// <summary>Registers <paramref name="builder"/> under <paramref name="name"/> (case-insensitive). The assembly that
    /// declares the builder's method is remembered and persisted with networks using the name.</summary>
    /// <exception cref="ArgumentException">The name is already taken by a different builder.</exception>
    public static void Register(string name, ArchitectureBuilder builder)
    {
        Guard.NotEmpty(name);
        Guard.NotNull(builder);
        var existing = Builders.GetOrAdd(name, (builder, builder.Method.Module.Assembly));
        if (existing.Builder != builder)
            throw new ArgumentException($"An architecture named '{name}' is already registered. Choose another name.", nameof(name));
    }

    /// <summary>Whether <paramref name="name"/> is registered.</summary>
    public static bool IsRegistered(string name) => Builders.ContainsKey(name);

    /// <summary>Simple name of the assembly that registered <paramref name="name"/>; null for the core built-ins and unknown names.</summary>
    internal static string? AssemblyOf(string name)
        => Builders.TryGetValue(name, out var entry) && entry.Assembly != typeof(ArchitectureRegistry).Assembly
            ? entry.Assembly.GetName().Name
            : null;

    internal static Network Expand(string name, string? assemblyName, ArchitectureParameters parameters, int[] inputShape)
    {
        if (!Builders.TryGetValue(name, out var entry))
        {
            var loadFailure = assemblyName is null ? null : RunModuleInitializerOf(assemblyName);
            if (!Builders.TryGetValue(name, out entry))
            {
                var origin = assemblyName is null
                    ? ""
                    : loadFailure is null
                        ? $" The network names assembly '{assemblyName}' as its origin; it was loaded but did not register '{name}'."
                        : $" The network names assembly '{assemblyName}' as its origin, which could not be loaded: {loadFailure}";
                throw new KeyNotFoundException(
                    $"Architecture '{name}' is not registered. Registered: {string.Join(", ", Names)}.{origin} " +
                    "A user-defined architecture must be registered with ArchitectureRegistry.Register before a model using it is trained or loaded.");
            }
        }
        return entry.Builder(parameters, inputShape);
    }

    /// <summary>Loads the assembly by simple name and runs its module initializer (where packages register); null or the failure.</summary>
    private static string? RunModuleInitializerOf(string assemblyName) => PackageAssemblies.RunModuleInitializerOf(assemblyName);
}

/// <summary>Named parameters of an architecture, stored as invariant-culture strings.</summary>
public sealed class ArchitectureParameters
{
    private readonly IReadOnlyDictionary<string, string> _values;

    /// <summary>Creates the parameter set.</summary>
    public ArchitectureParameters(IReadOnlyDictionary<string, string>? values = null)
        => _values = new Dictionary<string, string>(values ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);

    /// <summary>The raw values.</summary>
    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>An integer parameter, or <paramref name="defaultValue"/> when absent.</summary>
    public int GetInt(string name, int defaultValue) => Get(name, defaultValue, s => int.Parse(s, CultureInfo.InvariantCulture));

    /// <summary>A number parameter, or <paramref name="defaultValue"/> when absent.</summary>
    public double GetDouble(string name, double defaultValue) => Get(name, defaultValue, s => double.Parse(s, CultureInfo.InvariantCulture));

    /// <summary>A comma-separated integer list, or <paramref name="defaultValue"/> when absent.</summary>
    public int[] GetInts(string name, int[] defaultValue)
        => Get(name, defaultValue, s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray());

    /// <summary>A boolean parameter (<c>true</c>/<c>false</c> or <c>1</c>/<c>0</c>), or <paramref name="defaultValue"/> when absent.</summary>
    public bool GetBool(string name, bool defaultValue) => Get(name, defaultValue, s => s.Trim() switch
    {
        "1" => true,
        "0" => false,
        var text => bool.Parse(text),
    });

    /// <summary>An enum parameter, or <paramref name="defaultValue"/> when absent.</summary>
    public T GetEnum<T>(string name, T defaultValue) where T : struct, Enum => Get(name, defaultValue, s => Enum.Parse<T>(s, ignoreCase: true));

    private T Get<T>(string name, T defaultValue, Func<string, T> parse)
    {
        if (!_values.TryGetValue(name, out var text))
            return defaultValue;
        try
        {
            return parse(text);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
        {
            throw new ArgumentException($"Architecture parameter '{name}' must be a {typeof(T).Name}. Received: {name}='{text}'", name, ex);
        }
    }
}

internal static class BuiltInArchitectures
{
    /// <summary>Multi-layer perceptron: (Dense → [BatchNorm] → activation → [Dropout]) per hidden size. Flattens first.</summary>
    public static Network Mlp(ArchitectureParameters p, int[] inputShape)
    {
        var hidden = p.GetInts("hidden", [128, 64]);
        var activation = p.GetEnum("activation", ActivationKind.ReLU);
        var dropout = p.GetDouble("dropout", 0);
        var batchNorm = p.GetInt("batchNorm", 0) != 0;
        var network = inputShape.Length > 1 ? Network.Create().Flatten() : Network.Create();
        foreach (var units in hidden)
        {
            network = network.Dense(units);
            if (batchNorm)
                network = network.BatchNorm();
            network = network.Add(new ActivationLayer(activation));
            if (dropout > 0)
                network = network.Dropout(dropout);
        }
        return network;
    }
}

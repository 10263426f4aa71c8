using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;

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
/// Built-ins: <c>Mlp</c> (<see cref="MlpParameters"/>).
/// </summary>
/// <remarks>
/// Parameters are stored as invariant-culture strings. An architecture registered with a parameter class
/// (<see cref="Register{TParameters}(string, Func{TParameters, int[], Network})"/>) declares them once: the class's
/// property initializers are the defaults, its <see cref="ArchitectureParameterAttribute"/>s the descriptions
/// (<see cref="ParametersOf"/>), and a stored name the class does not declare is rejected with the valid names.
/// </remarks>
public static class ArchitectureRegistry
{
    private sealed record Entry(ArchitectureBuilder Builder, Assembly Assembly, Delegate Registered, Type? ParametersType);

    private static readonly ConcurrentDictionary<string, Entry> Builders = new(StringComparer.OrdinalIgnoreCase);

    static ArchitectureRegistry()
    {
        Register<MlpParameters>("Mlp", BuiltInArchitectures.Mlp);
    }

    /// <summary>Names of every registered architecture.</summary>
    public static IReadOnlyCollection<string> Names => Builders.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();

    /// <summary>Registers <paramref name="builder"/> under <paramref name="name"/> (case-insensitive). The assembly that
    /// declares the builder's method is remembered and persisted with networks using the name. The builder reads its
    /// parameters from <see cref="ArchitectureParameters"/> by name; stored names it does not read are ignored.</summary>
    /// <exception cref="ArgumentException">The name is already taken by a different builder.</exception>
    public static void Register(string name, ArchitectureBuilder builder)
    {
        Guard.NotEmpty(name);
        Guard.NotNull(builder);
        Add(name, new Entry(builder, builder.Method.Module.Assembly, builder, null));
    }

    /// <summary>
    /// Registers <paramref name="builder"/> under <paramref name="name"/> (case-insensitive) with typed parameters: the
    /// stored strings are bound to a new <typeparamref name="TParameters"/> (missing ones keep its initializers, the
    /// defaults) before each call. <see cref="ArchitectureParameters.From{TParameters}"/> gives the stored form of a
    /// parameter object.
    /// </summary>
    /// <typeparam name="TParameters">A class whose public settable properties, each marked with an
    /// <see cref="ArchitectureParameterAttribute"/>, are the parameters: int, long, double, float, bool, string, enums,
    /// int[] or their nullable forms (null = unset, not stored).</typeparam>
    /// <param name="name">The architecture name.</param>
    /// <param name="builder">Builds the layers from the parameters and the shape of one example.</param>
    /// <exception cref="ArgumentException">The name is already taken by a different builder.</exception>
    /// <exception cref="InvalidOperationException"><typeparamref name="TParameters"/> has a property without a description or of a type that cannot be stored.</exception>
    public static void Register<TParameters>(string name, Func<TParameters, int[], Network> builder) where TParameters : class, new()
    {
        Guard.NotEmpty(name);
        Guard.NotNull(builder);
        ArchitectureParameterBinding.For(typeof(TParameters)); // checks the class here, not when a model is first built
        Add(name, new Entry((p, shape) => builder(p.Bind<TParameters>($"Architecture '{name}'"), shape), builder.Method.Module.Assembly, builder, typeof(TParameters)));
    }

    /// <summary>
    /// The declared parameters of <paramref name="name"/> (stored name, type, default, description) in stored order;
    /// <c>null</c> when it was registered with an untyped <see cref="ArchitectureBuilder"/>, whose parameters are not declared.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The name is not registered; the message lists the registered ones.</exception>
    public static IReadOnlyList<ArchitectureParameterInfo>? ParametersOf(string name)
        => ParametersTypeOf(name) is { } type ? ArchitectureParameterBinding.For(type).Parameters : null;

    /// <summary>The parameter class of <paramref name="name"/>; null for an untyped builder.</summary>
    internal static Type? ParametersTypeOf(string name)
    {
        Guard.NotEmpty(name);
        return Builders.TryGetValue(name, out var entry)
            ? entry.ParametersType
            : throw new KeyNotFoundException($"Architecture '{name}' is not registered. Registered: {string.Join(", ", Names)}.");
    }

    private static void Add(string name, Entry entry)
    {
        var existing = Builders.GetOrAdd(name, entry);
        if (!existing.Registered.Equals(entry.Registered))
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

    /// <summary>The stored form of a parameter object: every non-null property, in declaration order (base class first),
    /// as invariant-culture strings (see <see cref="ArchitectureParameterAttribute"/>).</summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="TParameters"/> has a property without a description or of a type that cannot be stored.</exception>
    public static ArchitectureParameters From<TParameters>(TParameters parameters) where TParameters : class, new()
        => new(ArchitectureParameterBinding.For(typeof(TParameters)).ToDictionary(Guard.NotNull(parameters)));

    /// <summary>The declared parameters of <typeparamref name="TParameters"/> (stored name, type, default, description) in stored order.</summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="TParameters"/> has a property without a description or of a type that cannot be stored.</exception>
    public static IReadOnlyList<ArchitectureParameterInfo> Describe<TParameters>() where TParameters : class, new()
        => ArchitectureParameterBinding.For(typeof(TParameters)).Parameters;

    /// <summary>A new <typeparamref name="TParameters"/> with these values; missing ones keep its defaults.</summary>
    /// <exception cref="ArgumentException">A name the class does not declare (the message lists the valid ones), or a value that does not parse.</exception>
    public TParameters Bind<TParameters>() where TParameters : class, new() => Bind<TParameters>(typeof(TParameters).Name);

    internal TParameters Bind<TParameters>(string owner) where TParameters : class, new()
        => (TParameters)ArchitectureParameterBinding.For(typeof(TParameters)).Bind(_values, owner);

    /// <summary>An integer parameter, or <paramref name="defaultValue"/> when absent.</summary>
    public int GetInt(string name, int defaultValue) => Get(name, defaultValue);

    /// <summary>A number parameter, or <paramref name="defaultValue"/> when absent.</summary>
    public double GetDouble(string name, double defaultValue) => Get(name, defaultValue);

    /// <summary>A comma-separated integer list, or <paramref name="defaultValue"/> when absent.</summary>
    public int[] GetInts(string name, int[] defaultValue) => Get(name, defaultValue);

    /// <summary>A boolean parameter (<c>true</c>/<c>false</c> or <c>1</c>/<c>0</c>), or <paramref name="defaultValue"/> when absent.</summary>
    public bool GetBool(string name, bool defaultValue) => Get(name, defaultValue);

    /// <summary>An enum parameter, or <paramref name="defaultValue"/> when absent.</summary>
    public T GetEnum<T>(string name, T defaultValue) where T : struct, Enum => Get(name, defaultValue);

    private T Get<T>(string name, T defaultValue)
        => _values.TryGetValue(name, out var text) ? (T)ParameterText.Parse(typeof(T), name, text) : defaultValue;
}

/// <summary>Parameters of the built-in <c>Mlp</c> architecture (<see cref="Network.Mlp"/>); the initializers are the defaults.</summary>
public sealed class MlpParameters
{
    /// <summary>Units of each hidden Dense layer, in order.</summary>
    [ArchitectureParameter("Units of each hidden Dense layer, in order.")]
    public int[] Hidden { get; set; } = [128, 64];

    /// <summary>Activation after each hidden layer.</summary>
    [ArchitectureParameter("Activation after each hidden layer.")]
    public ActivationKind Activation { get; set; } = ActivationKind.ReLU;

    /// <summary>Dropout after each activation, in [0, 1); 0 adds no dropout layer.</summary>
    [ArchitectureParameter("Dropout after each activation, in [0, 1); 0 adds no dropout layer.")]
    public double Dropout { get; set; } = 0;

    /// <summary>Batch normalization after each hidden Dense layer.</summary>
    [ArchitectureParameter("Batch normalization after each hidden Dense layer.", WriteBoolAsDigit = true)]
    public bool BatchNorm { get; set; } = false;
}

internal static class BuiltInArchitectures
{
    /// <summary>Multi-layer perceptron: (Dense → [BatchNorm] → activation → [Dropout]) per hidden size. Flattens first.</summary>
    public static Network Mlp(MlpParameters p, int[] inputShape)
    {
        var network = inputShape.Length > 1 ? Network.Create().Flatten() : Network.Create();
        foreach (var units in p.Hidden)
        {
            network = network.Dense(units);
            if (p.BatchNorm)
                network = network.BatchNorm();
            network = network.Add(new ActivationLayer(p.Activation));
            if (p.Dropout > 0)
                network = network.Dropout(p.Dropout);
        }
        return network;
    }
}

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text.Json;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// The layer kinds a <see cref="Network"/> can save and read back, each under the JSON name written as its <c>type</c>
/// (e.g. <c>{"type":"Dense","units":10,"useBias":true}</c>). Any assembly adds its own layer kinds here:
/// <code>
/// public sealed class ScaleLayer(float factor) : Layer
/// {
///     public float Factor { get; } = factor;
///     public override string ToString() => $"Scale({Factor})";
///     public override int[] InferOutputShape(int[] input, int index) => (int[])input.Clone();
///     public override nn.Module&lt;Tensor, Tensor&gt; Build(int[] input, BuildContext context) => new ScaleModule(Factor);
/// }
///
/// LayerRegistry.Register&lt;ScaleLayer&gt;("Scale");   // once per process, before a network using it is saved or read
/// </code>
/// A package registers from a <c>[ModuleInitializer]</c> (as <c>ML.DeepExtensions.Vision</c> and <c>ML.DeepExtensions.Text</c>
/// do): networks record the simple name of the assembly of every layer not from the core package (an <c>assembly</c>
/// property next to <c>type</c>), and when a network names a type not registered yet, that assembly is loaded by name and
/// its module initializer run, so a model zip loads in a process that never touched the package. Layers registered from
/// application code (outside a module initializer) must be registered by the application before such a model is loaded.
/// The core package's layers (Dense, Convolution, Pooling, BatchNorm, LayerNorm, Dropout, Embedding, Recurrent,
/// Activation, Flatten, Reshape, Residual, SqueezeExcitation, Architecture, …) are registered from the start.
/// </summary>
public static class LayerRegistry
{
    private const string VisionAssembly = "ML.DeepExtensions.Vision";
    private const string TextAssembly = "ML.DeepExtensions.Text";

    /// <summary>Layer kinds that lived in the core assembly in format version 1 and moved to a package since: networks
    /// written then name no assembly, so the package is found here.</summary>
    private static readonly Dictionary<string, string> MovedFromCore = new(StringComparer.Ordinal)
    {
        ["Normalize"] = VisionAssembly,
        ["RandomCrop"] = VisionAssembly,
        ["RandomFlip"] = VisionAssembly,
        ["RandomRotation"] = VisionAssembly,
        ["ColorJitter"] = VisionAssembly,
        ["RandomErasing"] = VisionAssembly,
        ["TokenEmbedding"] = TextAssembly,
        ["TransformerBlock"] = TextAssembly,
        ["SequencePool"] = TextAssembly,
        ["Transformer"] = TextAssembly,
    };

    /// <summary>JSON property names the layer's own properties must not use.</summary>
    private static readonly string[] ReservedPropertyNames = [LayerJsonConverter.TypeProperty, LayerJsonConverter.AssemblyProperty];

    private static readonly object Gate = new();
    private static readonly ConcurrentDictionary<string, Type> TypesByName = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<Type, string> NamesByType = new();

    static LayerRegistry()
    {
        Add<ActivationLayer>("Activation");
        Add<AdaptiveAveragePoolLayer>("AdaptiveAveragePool");
        Add<ArchitectureLayer>("Architecture");
        Add<BatchNormLayer>("BatchNorm");
        Add<ConvolutionLayer>("Convolution");
        Add<DenseLayer>("Dense");
        Add<DropoutLayer>("Dropout");
        Add<EmbeddingLayer>("Embedding");
        Add<FlattenLayer>("Flatten");
        Add<GlobalAveragePoolLayer>("GlobalAveragePool");
        Add<LayerNormLayer>("LayerNorm");
        Add<PoolingLayer>("Pooling");
        Add<RecurrentLayer>("Recurrent");
        Add<ReshapeLayer>("Reshape");
        Add<ResidualLayer>("Residual");
        Add<SqueezeExcitationLayer>("SqueezeExcitation");
    }

    /// <summary>Every registered JSON type name, sorted.</summary>
    public static IReadOnlyCollection<string> TypeNames => TypesByName.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Registers <typeparamref name="TLayer"/> under <paramref name="typeName"/>, the <c>type</c> networks write for it in
    /// JSON (case-sensitive; by convention the class name without <c>Layer</c>). Registering the same class under the same
    /// name again does nothing, so a module initializer may run this unconditionally.
    /// </summary>
    /// <typeparam name="TLayer">A concrete layer class. Its public properties are what JSON stores; they must not be
    /// named <c>type</c> or <c>assembly</c> in JSON, which the registry writes itself.</typeparam>
    /// <param name="typeName">The JSON name; letters, digits and underscores.</param>
    /// <exception cref="ArgumentException"><paramref name="typeName"/> is taken by another class (or reserved for the package
    /// a version-1 layer kind moved to), the class is already registered under another name, the class is abstract, or one
    /// of its properties collides with a reserved JSON name.</exception>
    public static void Register<TLayer>(string typeName) where TLayer : Layer
    {
        var type = typeof(TLayer);
        Guard.NotEmpty(typeName);
        if (!typeName.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            throw new ArgumentException($"typeName must contain only letters, digits and underscores. Received: typeName='{typeName}'", nameof(typeName));
        if (type.IsAbstract)
            throw new ArgumentException($"Only concrete layer classes can be registered; {type.FullName} is abstract. Received: TLayer={type.Name}", nameof(TLayer));
        if (MovedFromCore.TryGetValue(typeName, out var owner) && type.Assembly.GetName().Name != owner)
            throw new ArgumentException(
                $"Layer type '{typeName}' is reserved for {owner}: networks saved before it moved out of the core package name it " +
                $"without an assembly. Choose another name. Received: typeName='{typeName}'", nameof(typeName));
        var collision = JsonFormat.Options.GetTypeInfo(type).Properties
            .FirstOrDefault(p => ReservedPropertyNames.Contains(p.Name, StringComparer.OrdinalIgnoreCase));
        if (collision is not null)
            throw new ArgumentException(
                $"Layer class {type.FullName} has a property written as '{collision.Name}' in JSON, a name the registry writes itself " +
                $"({string.Join(", ", ReservedPropertyNames.Select(n => $"'{n}'"))}). Rename the property or give it another [JsonPropertyName].", nameof(TLayer));
        Add<TLayer>(typeName);
    }

    /// <summary>Whether <paramref name="typeName"/> is registered in this process.</summary>
    public static bool IsRegistered(string typeName) => TypesByName.ContainsKey(typeName);

    /// <summary>The JSON name <paramref name="layerType"/> is registered under; <c>null</c> when it is not registered.</summary>
    internal static string? TypeNameOf(Type layerType) => NamesByType.TryGetValue(Guard.NotNull(layerType), out var name) ? name : null;

    /// <summary>Simple name of the assembly that declares <paramref name="layerType"/>, recorded in JSON; null for the core package's layers.</summary>
    internal static string? AssemblyOf(Type layerType)
        => layerType.Assembly == typeof(Layer).Assembly ? null : layerType.Assembly.GetName().Name;

    /// <summary>
    /// The class registered under <paramref name="typeName"/>. When it is not registered, the assembly the network names
    /// (<paramref name="assemblyName"/>) or, for networks written before layers moved out of the core package, the
    /// package the name moved to, is loaded and its module initializer run first.
    /// </summary>
    /// <exception cref="JsonException">The name is not registered, even after loading its assembly; the message lists the registered names.</exception>
    internal static Type Resolve(string typeName, string? assemblyName)
    {
        if (TypesByName.TryGetValue(typeName, out var type))
            return type;
        var origin = assemblyName ?? MovedFromCore.GetValueOrDefault(typeName);
        var loadFailure = origin is null ? null : PackageAssemblies.RunModuleInitializerOf(origin);
        if (TypesByName.TryGetValue(typeName, out type))
            return type;
        var originText = origin is null
            ? ""
            : loadFailure is null
                ? $" Assembly '{origin}', {(assemblyName is null ? "where it is expected" : "which the network names as its origin")}, was loaded but did not register '{typeName}'."
                : $" Assembly '{origin}', {(assemblyName is null ? "where it is expected" : "which the network names as its origin")}, could not be loaded: {loadFailure}";
        throw new JsonException(
            $"Layer type '{typeName}' is not registered. Registered: {string.Join(", ", TypeNames)}.{originText} " +
            $"A layer kind from another assembly must be registered with LayerRegistry.Register<TLayer>(\"{typeName}\") before a network using it is read.");
    }

    /// <summary>The package assembly a layer kind moved to from the core package after format version 1; null for others.</summary>
    internal static string? MovedFromCoreTo(string typeName) => MovedFromCore.GetValueOrDefault(typeName);

    private static void Add<TLayer>(string typeName) where TLayer : Layer
    {
        var type = typeof(TLayer);
        lock (Gate)
        {
            if (TypesByName.TryGetValue(typeName, out var existing))
            {
                if (existing == type)
                    return;
                throw new ArgumentException(
                    $"Layer type '{typeName}' is already registered for {existing.FullName} (assembly {existing.Assembly.GetName().Name}); " +
                    $"it cannot also name {type.FullName} (assembly {type.Assembly.GetName().Name}). Choose another name. Received: typeName='{typeName}'",
                    nameof(typeName));
            }
            if (NamesByType.TryGetValue(type, out var otherName))
                throw new ArgumentException(
                    $"Layer class {type.FullName} is already registered as '{otherName}'; a class has one JSON name. Received: typeName='{typeName}'",
                    nameof(typeName));
            NamesByType[type] = typeName;
            TypesByName[typeName] = type;
        }
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace ML.DeepExtensions.Interop;

/// <summary>
/// Every use of ML.NET internals outside model (de)serialization goes through here, so that a change in a
/// future ML.NET is repaired in one file. <see cref="SelfCheck"/> verifies at first use that the members
/// this project relies on still exist.
/// </summary>
internal static class MLNetInternals
{
    private static readonly Lazy<string?> Problem = new(FindProblem);

    /// <summary>The environment behind a trainer catalog (<c>mlContext.Regression.Trainers</c>, …).</summary>
    public static IHostEnvironment Environment(TrainCatalogBase.CatalogInstantiatorBase catalog)
    {
        SelfCheck();
        return CatalogUtils.GetEnvironment(catalog);
    }

    /// <summary>A transforms catalog over <paramref name="env"/>, for estimators that compose ML.NET's own transforms.</summary>
    public static TransformsCatalog Transforms(IHostEnvironment env)
    {
        SelfCheck();
        return new TransformsCatalog(env);
    }

    /// <summary>A <see cref="SchemaShape.Column"/> (its constructor is internal).</summary>
    public static SchemaShape.Column Column(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey, SchemaShape? annotations = null)
        => new(name, kind, itemType, isKey, annotations);

    /// <summary>The <see cref="SchemaShape"/> of a schema (its factory is internal).</summary>
    public static SchemaShape Shape(DataViewSchema schema) => SchemaShape.Create(schema);

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the missing member if this ML.NET lacks one we use.</summary>
    public static void SelfCheck()
    {
        if (Problem.Value is { } problem)
            throw new InvalidOperationException(
                $"ML.DeepExtensions needs an ML.NET internal member that this version of Microsoft.ML does not have: {problem}. " +
                "Use the Microsoft.ML version this package was built against (5.0.x).");
    }

    private static string? FindProblem()
    {
        const System.Reflection.BindingFlags Any = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic |
            System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static;
        var required = new (Type Type, string Member)[]
        {
            (typeof(ModelSaveContext), nameof(ModelSaveContext.SetVersionInfo)),
            (typeof(ModelSaveContext), nameof(ModelSaveContext.SaveBinaryStream)),
            (typeof(ModelSaveContext), nameof(ModelSaveContext.Writer)),
            (typeof(ModelLoadContext), nameof(ModelLoadContext.TryLoadBinaryStream)),
            (typeof(ModelLoadContext), nameof(ModelLoadContext.CheckAtModel)),
            (typeof(ModelLoadContext), nameof(ModelLoadContext.Reader)),
            (typeof(IHostEnvironmentInternal), nameof(IHostEnvironmentInternal.Seed)),
            (typeof(IHostEnvironmentInternal), nameof(IHostEnvironmentInternal.GpuDeviceId)),
            (typeof(IHostEnvironmentInternal), nameof(IHostEnvironmentInternal.FallbackToCpu)),
            (typeof(CatalogUtils), nameof(CatalogUtils.GetEnvironment)),
        };
        foreach (var (type, member) in required)
        {
            if (type.GetMember(member, Any).Length == 0)
                return $"{type.FullName}.{member}";
        }
        if (typeof(TransformsCatalog).GetConstructor(Any, [typeof(IHostEnvironment)]) is null)
            return $"{typeof(TransformsCatalog).FullName}(IHostEnvironment) constructor";
        var loadable = typeof(MLNetInternals).Assembly.GetCustomAttributes(typeof(LoadableClassAttribute), false);
        return loadable.Length == 0
            ? "LoadableClassAttribute (dropped by the runtime: IgnoresAccessChecksTo is not honoured)"
            : null;
    }
}

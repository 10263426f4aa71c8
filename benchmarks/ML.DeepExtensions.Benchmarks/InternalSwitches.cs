using System;
using System.Reflection;

namespace ML.DeepExtensions.Benchmarks;

/// <summary>
/// The library's internal flow-local overrides, reached by reflection for the benchmarks' A/B runs (issue 15). Each holds
/// for the calling flow and what it starts, until disposed.
/// </summary>
internal static class InternalSwitches
{
    /// <summary><c>UnrolledLstm.Force</c>: true unrolls every LSTM training pass on the CPU, false leaves every one to <c>nn.LSTM</c>.</summary>
    public static IDisposable UnrolledLstm(bool unrolled) => Force("ML.DeepExtensions.Networks.UnrolledLstm", unrolled);

    /// <summary><c>MixedPrecisionRule.Force</c>: false lets autocast cast every dense and convolution layer of a mixed-precision step.</summary>
    public static IDisposable MixedPrecisionRule(bool keepFloat32) => Force("ML.DeepExtensions.Networks.MixedPrecisionRule", keepFloat32);

    private static IDisposable Force(string type, bool value)
        => (IDisposable)typeof(Microsoft.ML.NeuralNetworkCatalog).Assembly.GetType(type, throwOnError: true)!
            .GetMethod("Force", BindingFlags.Static | BindingFlags.NonPublic)!
            .Invoke(null, [value])!;
}

using System;
using System.Reflection;

namespace ML.DeepExtensions.Benchmarks;

/// <summary>
/// The library's internal <c>UnrolledLstm.Force</c>, reached by reflection for the benchmarks' A/B runs (issue 15):
/// true unrolls every LSTM training pass on the CPU, false leaves every one to <c>nn.LSTM</c>, for the calling flow and
/// what it starts, until disposed.
/// </summary>
internal static class UnrolledLstmSwitch
{
    private static readonly MethodInfo ForceMethod =
        typeof(Microsoft.ML.NeuralNetworkCatalog).Assembly.GetType("ML.DeepExtensions.Networks.UnrolledLstm", throwOnError: true)!
            .GetMethod("Force", BindingFlags.Static | BindingFlags.NonPublic)!;

    public static IDisposable Force(bool unrolled) => (IDisposable)ForceMethod.Invoke(null, [unrolled])!;
}

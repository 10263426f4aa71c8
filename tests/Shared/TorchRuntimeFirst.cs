using System.Runtime.CompilerServices;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Tests.Shared;

/// <summary>
/// Tests call TorchSharp directly (reference modules, loss checks) before any library API; the library's process-wide
/// start-up settings (on AMD CPUs with AVX-512, oneDNN's instruction set capped) must precede libtorch's first kernel,
/// as README "Limits" asks of applications that do the same.
/// </summary>
internal static class TorchRuntimeFirst
{
#pragma warning disable CA2255 // A test assembly initialises the native runtime once, before any test.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize() => TorchRuntime.EnsureInitialized();
}

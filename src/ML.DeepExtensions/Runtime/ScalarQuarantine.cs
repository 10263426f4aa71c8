using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace ML.DeepExtensions.Runtime;

/// <summary>
/// Works around TorchSharp 0.107's scalar-finalization fault (Linux x64). TorchSharp passes libtorch only the native handle
/// of a <see cref="Scalar"/>; the managed temporary (a number converted implicitly, or a hidden default such as
/// <c>add_</c>'s <c>alpha = 1</c>, also inside TorchSharp's own optimizers) is unreachable during the call, so a garbage
/// collection started by another thread can finalize it and free the native scalar while libtorch reads it. Measured on a
/// 2-vCPU AMD EPYC (2026-12-02): an <c>x.add_(1.0)</c> loop beside an allocating thread failed in 849 of 1,743 rounds
/// ("Unknown scalar type", <c>Scalar.h</c> <c>toFloat</c>/<c>toDouble</c> checks, or a wrong sum); in training it shows
/// as a random NaN loss or exception. Upstream fixes (TorchSharp pull requests 1434, 1496) are not released.
/// <para>
/// The fix is native, because the free happens inside TorchSharp: <c>libDeepExtensionsScalarQuarantine.so</c> (built from
/// <c>Runtime/Native/scalar_quarantine.c</c>, shipped in the package next to TorchSharp's library) depends on
/// libLibTorchSharp.so and defines one entry point of its own, <c>THSTorch_dispose_scalar</c>, which frees a scalar only
/// once it is a second old. A <see cref="NativeLibrary.SetDllImportResolver"/> on TorchSharp's assembly makes its
/// <c>LibTorchSharp</c> imports resolve through that library: every other entry point is the real one.
/// </para>
/// </summary>
internal static class ScalarQuarantine
{
    /// <summary>The quarantine library's file name (next to libLibTorchSharp.so in the application's output).</summary>
    internal const string LibraryFileName = "libDeepExtensionsScalarQuarantine.so";

    /// <summary>The library name of TorchSharp's <c>DllImport</c>s.</summary>
    private const string TorchSharpImportName = "LibTorchSharp";

    private static IntPtr _library;
    private static CountsFunction? _counts;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void CountsFunction(out ulong deferred, out ulong freed, out ulong held);

    /// <summary>What <see cref="Apply"/> did, for diagnostics and tests.</summary>
    internal static string State { get; private set; } = "not applied";

    /// <summary>
    /// Loads the quarantine library from the folder of <paramref name="libTorchSharpFile"/> (already loaded) and routes
    /// TorchSharp's imports through it. Must run before TorchSharp's first call into libtorch; does nothing when turned off,
    /// off Linux x64, or when the library is not there (then <see cref="State"/> says why).
    /// </summary>
    internal static void Apply(bool enabled, string? libTorchSharpFile)
    {
        if (!enabled)
        {
            State = "off (TorchRuntime.QuarantineScalars is false)";
            return;
        }
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            State = "not Linux x64";
            return;
        }
        if (libTorchSharpFile is null)
        {
            State = "libLibTorchSharp.so was not found in the application's output";
            return;
        }
        var file = Path.Combine(Path.GetDirectoryName(libTorchSharpFile)!, LibraryFileName);
        if (!File.Exists(file))
        {
            State = $"'{file}' is missing";
            return;
        }
        if (!NativeLibrary.TryLoad(file, out var library)
            || !NativeLibrary.TryGetExport(library, "DeepExtensions_scalar_quarantine_counts", out var counts))
        {
            State = $"'{file}' could not be loaded";
            return;
        }
        _library = library; // before the resolver exists, so that its first call already returns it
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            _library = IntPtr.Zero;
            State = "TorchSharp's assembly already has a DllImport resolver";
            return;
        }
        _counts = Marshal.GetDelegateForFunctionPointer<CountsFunction>(counts);
        State = $"active ({file})";
    }

    /// <summary>Scalars disposed through the quarantine so far, scalars it freed, and scalars it holds; null when inactive.</summary>
    internal static (ulong Deferred, ulong Freed, ulong Held)? Counts()
    {
        if (_counts is null)
            return null;
        _counts(out var deferred, out var freed, out var held);
        return (deferred, freed, held);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == TorchSharpImportName ? _library : IntPtr.Zero;
}

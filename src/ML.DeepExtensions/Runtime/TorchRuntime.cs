using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TorchSharp;

namespace ML.DeepExtensions.Runtime;

/// <summary>
/// The single place that touches libtorch's initialisation. Every entry point that creates tensors calls
/// <see cref="EnsureInitialized"/> first, so that a missing or unloadable native library surfaces as one
/// <see cref="NativeLibraryException"/> with a fix, instead of a <see cref="TypeInitializationException"/>
/// deep inside TorchSharp.
/// </summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _initialized;
    private static Exception? _failure;

    /// <summary>
    /// Whether libtorch's first use sets glibc's malloc thresholds for tensor-sized blocks (Linux; default true): blocks up
    /// to 32 MiB then come from the heap instead of fresh <c>mmap</c> calls (each of which the kernel maps, zero-fills and
    /// unmaps again every step), and freed memory is kept for reuse up to 512 MiB, so the process keeps its peak native heap.
    /// Measured on the 2-vCPU AMD EPYC VM (2026-12-02, <c>--vs-pytorch</c>, 1 thread, tuned vs glibc's defaults): ResNet-style
    /// training 1.1–1.7× and scoring 3.3–4.9× faster, LeNet-5 training 1.7× faster, the MLP unchanged (its blocks are small);
    /// on a Zen 2 machine (2026-12-01) within ±10 % noise. Set it to false before the first model is created or trained to
    /// keep glibc's defaults. glibc's own <c>MALLOC_MMAP_THRESHOLD_</c> / <c>MALLOC_TRIM_THRESHOLD_</c> environment variables,
    /// when set, are always left alone.
    /// </summary>
    public static bool TuneNativeAllocator { get; set; } = true;

    /// <summary>
    /// Whether libtorch's first use routes TorchSharp's scalar disposals through a quarantine that frees a native scalar
    /// only once it is a second old (Linux x64; default true). It works around TorchSharp 0.107 freeing a scalar argument
    /// while libtorch reads it, when a garbage collection on another thread finalizes the managed temporary — seen as
    /// random NaN losses or "Unknown scalar type" / <c>toFloat</c> errors (README "Limits"). Turn it off only to reproduce
    /// that fault; set it before the first model is created or trained.
    /// </summary>
    public static bool QuarantineScalars { get; set; } = true;

    /// <summary>
    /// What <see cref="QuarantineScalars"/> did in this process, for diagnostics: "active", with the library's path and its
    /// counts (scalars disposed through it, freed, held), or why it is not — for example "off", "not Linux x64", or a missing
    /// library file. "not applied" before libtorch's first use.
    /// </summary>
    public static string ScalarQuarantineState => ScalarQuarantine.Counts() is { } counts
        ? $"{ScalarQuarantine.State}: {counts.Deferred:N0} scalars disposed through it, {counts.Freed:N0} freed, {counts.Held:N0} held"
        : ScalarQuarantine.State;

    /// <summary>
    /// Loads libtorch once per process, or throws <see cref="NativeLibraryException"/>. Every API of the library calls it; an
    /// application that uses TorchSharp directly before any of them calls it first, so that the process-wide settings made
    /// here (on AMD Zen 5 CPUs with AVX-512, oneDNN capped, see README "Limits") precede libtorch's first kernel.
    /// </summary>
    public static void EnsureInitialized()
    {
        if (_initialized)
            return;
        lock (Gate)
        {
            if (_initialized)
                return;
            if (_failure is not null)
                throw Describe(_failure);
            try
            {
                OneDnnIsaCap.Apply();
                // A library that cannot load fails here, before TorchSharp's own loader, which on failure copies the
                // whole backend (~480 MB) into the output folder to retry from there.
                if (Preload(AppContext.BaseDirectory, out var libTorchSharpFile) is { } preloadFailure)
                    throw preloadFailure;
                ScalarQuarantine.Apply(QuarantineScalars, libTorchSharpFile);
                NativeAllocator.Apply(TuneNativeAllocator);
                torch.InitializeDeviceType(DeviceType.CPU);
                _initialized = true;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _failure = ex;
                throw Describe(ex);
            }
        }
    }

    /// <summary>The native libraries TorchSharp loads, in its order: libtorch (which pulls in libtorch_cpu and libc10), then LibTorchSharp.</summary>
    private static readonly string[] NativeLibraries = OperatingSystem.IsWindows() ? ["torch.dll", "LibTorchSharp.dll"]
        : OperatingSystem.IsMacOS() ? ["libtorch.dylib", "libLibTorchSharp.dylib"]
        : ["libtorch.so", "libLibTorchSharp.so"];

    /// <summary>
    /// Loads the native libraries found under <paramref name="appDirectory"/> (the application's output, where NuGet puts
    /// them) the way TorchSharp will, and returns the first failure, or null when they load or are not there (then
    /// TorchSharp's loader searches on its own). <paramref name="libTorchSharpFile"/> is the LibTorchSharp file loaded.
    /// </summary>
    internal static Exception? Preload(string appDirectory, out string? libTorchSharpFile)
    {
        libTorchSharpFile = null;
        if (!Directory.Exists(appDirectory))
            return null;
        var preferred = Path.Combine(appDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native");
        foreach (var name in NativeLibraries)
        {
            var file = new[] { preferred, appDirectory }.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
                ?? Directory.EnumerateFiles(appDirectory, name, SearchOption.AllDirectories).FirstOrDefault();
            if (file is null)
                return null;
            try
            {
                NativeLibrary.Load(file);
            }
            catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
            {
                return new DllNotFoundException($"'{file}' could not be loaded: {ex.Message}", ex);
            }
            if (name == NativeLibraries[^1])
                libTorchSharpFile = file;
        }
        return null;
    }

    private static NativeLibraryException Describe(Exception failure)
    {
        var detail = Innermost(failure).Message;
        var appDir = AppContext.BaseDirectory;
        var nativeDir = Path.Combine(appDir, "runtimes", RuntimeInformation.RuntimeIdentifier, "native");
        var hasLibTorchSharp = Directory.Exists(appDir) && Directory
            .EnumerateFiles(appDir, "*LibTorchSharp*", SearchOption.AllDirectories).Any();
        var hasLibTorch = Directory.Exists(appDir) && Directory
            .EnumerateFiles(appDir, "*torch_cpu*", SearchOption.AllDirectories).Any();

        string fix;
        if (!hasLibTorch)
            fix = "No libtorch native backend is in the application's output. Add one to the application project: " +
                  "`dotnet add package libtorch-cpu-linux-x64 --version 2.10.0` (Linux x64, CPU) or " +
                  "`dotnet add package TorchSharp-cpu --version 0.107.0` (Linux, Windows, macOS).";
        else if (!hasLibTorchSharp)
            fix = "libLibTorchSharp is not in the application's output; add the TorchSharp package (0.107.0) to the application project.";
        else if (detail.Contains("GLIBCXX", StringComparison.Ordinal) || OperatingSystem.IsLinux())
            fix = "On Debian 12 / Ubuntu 22.04 the system libstdc++ lacks GLIBCXX_3.4.32, which TorchSharp 0.107 asks for. " +
                  "Building an application that references the ML.DeepExtensions package marks that one requirement weak " +
                  "in the output copy of libLibTorchSharp.so: rebuild it with `dotnet build` or `dotnet publish`, " +
                  "and check that LibTorchNativeFixEnabled is not set to false.";
        else
            fix = "Check that the native backend matches this operating system and architecture.";

        return new NativeLibraryException(
            $"libtorch could not be loaded from '{nativeDir}'. {fix} TorchSharp said: {FirstLine(detail)}", failure);
    }

    // TorchSharp's loader message carries a multi-line trace; the message keeps its first line, InnerException all of it.
    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end].TrimEnd() + " (full trace: see InnerException)";
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
            ex = ex.InnerException;
        return ex;
    }
}

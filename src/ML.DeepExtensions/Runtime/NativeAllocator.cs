using System;
using System.Runtime.InteropServices;

namespace ML.DeepExtensions.Runtime;

/// <summary>
/// glibc's malloc settings for libtorch's many short-lived tensor buffers (Linux only), applied once when libtorch is
/// initialised. By default glibc serves blocks above 128 KiB (a threshold that adapts, up to 32 MiB) with fresh
/// <c>mmap</c> calls and returns freed heap tops to the system above 128 KiB: a training step's activations and gradients
/// are then mapped, zero-filled by the kernel and unmapped again every step — 20–40 % of the time of a small recurrent or
/// convolutional step, not only for the first seconds of a run: in a ResNet-style <c>Fit</c> (2026-12-02) glibc's adaptive
/// threshold never caught up, and the forward pass took twice the time of a raw loop's on the same network (issue 15). Serving them from
/// the heap and keeping freed memory for reuse removes that cost; the price is that the process keeps its peak heap
/// instead of returning it between steps. On by default (<see cref="TorchRuntime.TuneNativeAllocator"/>): on the 2-vCPU
/// AMD EPYC VM it made ResNet-style training 1.1–1.7× and scoring 3.3–4.9× faster (2026-12-02).
/// </summary>
internal static class NativeAllocator
{
    private const int TrimThreshold = -1; // M_TRIM_THRESHOLD
    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD

    /// <summary>Blocks up to this size come from the heap (glibc's maximum on 64-bit systems).</summary>
    internal const int MmapThresholdBytes = 32 * 1024 * 1024;

    /// <summary>Freed memory at the top of the heap is returned to the system only above this size.</summary>
    internal const int TrimThresholdBytes = 512 * 1024 * 1024;

    /// <summary>What <see cref="Apply"/> did, for diagnostics and tests.</summary>
    internal static string State { get; private set; } = "not applied";

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);

    /// <summary>
    /// Sets the thresholds unless turned off (<see cref="TorchRuntime.TuneNativeAllocator"/>), unless the application set
    /// glibc's own <c>MALLOC_MMAP_THRESHOLD_</c> / <c>MALLOC_TRIM_THRESHOLD_</c> variables (theirs win), and only on Linux
    /// with a C library that exports <c>mallopt</c>.
    /// </summary>
    internal static void Apply(bool enabled)
    {
        if (!enabled)
        {
            State = "off (TorchRuntime.TuneNativeAllocator is false)";
            return;
        }
        if (!OperatingSystem.IsLinux())
        {
            State = "not Linux";
            return;
        }
        if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
        {
            State = "left to the MALLOC_*_THRESHOLD_ environment variables";
            return;
        }
        try
        {
            var ok = (mallopt(MmapThreshold, MmapThresholdBytes) == 1) & (mallopt(TrimThreshold, TrimThresholdBytes) == 1);
            State = ok ? $"mmap threshold {MmapThresholdBytes >> 20} MiB, trim threshold {TrimThresholdBytes >> 20} MiB" : "mallopt refused the settings";
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            State = "no glibc mallopt";
        }
    }
}

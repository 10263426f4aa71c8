using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Runtime;

/// <summary>
/// libtorch's automatic mixed precision (autocast, PyTorch's <c>torch.autocast</c>), which TorchSharp 0.107 does not
/// expose: called through the C++ functions <c>at::autocast::*</c> that libtorch_cpu.so exports. Inside a
/// <see cref="Region"/> the dispatcher runs the operations on libtorch's lower-precision list (matrix products, linear
/// layers, convolutions, attention, oneDNN's recurrent layers) in bfloat16, casting their float32 inputs and weights,
/// and keeps the ones on its float32 list (losses, softmax-like reductions) in float32; the weights themselves, their
/// gradients and the optimizer state stay float32. The state is per thread, as in PyTorch. Where bfloat16 measured slower
/// on the CPU the library suspends it: the fused attention, and the small or kernel-less layers of
/// <see cref="Networks.MixedPrecisionRule"/>.
/// </summary>
internal static class Autocast
{
    private const string Library = "libtorch_cpu.so";

    // Itanium-mangled names of libtorch 2.x's at::autocast API (c10::DeviceType and c10::ScalarType are int8 enums).
    private const string SetEnabledName = "_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb";
    private const string IsEnabledName = "_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE";
    private const string SetDtypeName = "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE";
    private const string GetDtypeName = "_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE";
    private const string IncrementNestingName = "_ZN2at8autocast17increment_nestingEv";
    private const string DecrementNestingName = "_ZN2at8autocast17decrement_nestingEv";
    private const string ClearCacheName = "_ZN2at8autocast11clear_cacheEv";

    private static readonly Lazy<string?> Missing = new(FindMissing);

    /// <summary>
    /// Why autocast cannot run in this process (the library or the entry point not found), or null when it can.
    /// Checked once, before any entry point is called.
    /// </summary>
    public static string? Unavailable => Missing.Value;

    /// <summary>
    /// Throws <see cref="NotSupportedException"/> naming the option, the device and the reason when
    /// <paramref name="precision"/> cannot run on <paramref name="device"/>; returns a warning when it can but bfloat16
    /// products are emulated on this CPU (usually slower than float32), otherwise null. Called before training starts.
    /// </summary>
    public static string? Check(TrainingPrecision precision, Device device)
    {
        if (precision == TrainingPrecision.Float32)
            return null;
        if (device.type is not (DeviceType.CPU or DeviceType.CUDA))
            throw new NotSupportedException($"{nameof(TrainerOptions.Precision)} = {precision} needs a CPU or CUDA device; the network trains on {device}.");
        if (Unavailable is { } reason)
            throw new NotSupportedException($"{nameof(TrainerOptions.Precision)} = {precision} needs libtorch's autocast, but {reason}. Use {nameof(TrainingPrecision.Float32)}.");
        return device.type == DeviceType.CPU && !CpuHasNativeBFloat16(out var detail)
            ? $"{nameof(TrainerOptions.Precision)} = {precision} on a CPU without native bfloat16 products ({detail}): they are emulated and usually slower than float32."
            : null;
    }

    /// <summary>
    /// Enters a bfloat16 autocast region on <paramref name="device"/>'s type for <see cref="TrainingPrecision.MixedBFloat16"/>,
    /// or returns null for <see cref="TrainingPrecision.Float32"/>. Dispose it on the same thread.
    /// </summary>
    public static Region? Enter(TrainingPrecision precision, Device device)
        => precision == TrainingPrecision.MixedBFloat16 ? new Region((sbyte)device.type, enabled: true) : null;

    /// <summary>
    /// Suspends autocast on the CPU for the calling thread until disposed (PyTorch's nested
    /// <c>torch.autocast("cpu", enabled=False)</c>), or returns null when it is not on (any float32 training, scoring). For
    /// operations measured slower in bfloat16 than in float32 on the CPU: libtorch 2.10's fused attention
    /// (<c>scaled_dot_product_attention</c>, forward + backward at b32 × 4 heads × 128 × 32) took 58 ms in bfloat16 against
    /// 23 ms in float32 on an AVX512_BF16 Zen 4; the caller passes its inputs as float32.
    /// </summary>
    public static Region? SuspendOnCpu() => ActiveOnCpu ? new Region(CpuType, enabled: false) : null;

    /// <summary>Whether the calling thread is inside a CPU autocast region (a mixed-precision training step).</summary>
    public static bool ActiveOnCpu => Unavailable is null && IsEnabled(CpuType);

    private const sbyte CpuType = (sbyte)DeviceType.CPU;

    /// <summary>
    /// One autocast region, on (<see cref="Enter"/>) or off (<see cref="SuspendOnCpu"/>), as PyTorch's
    /// <c>torch.autocast(enabled=…).__enter__</c>/<c>__exit__</c>: the previous state of the device type is restored on
    /// exit, and the cache of bfloat16 copies of the weights is cleared when the outermost region ends, so the next step
    /// casts the weights the optimizer has just updated.
    /// </summary>
    public sealed class Region : IDisposable
    {
        private readonly sbyte _deviceType;
        private readonly bool _wasEnabled;
        private readonly sbyte _previousDtype;
        private bool _disposed;

        internal Region(sbyte deviceType, bool enabled)
        {
            _deviceType = deviceType;
            _wasEnabled = IsEnabled(deviceType);
            _previousDtype = GetDtype(deviceType);
            SetDtype(deviceType, (sbyte)ScalarType.BFloat16);
            SetEnabled(deviceType, enabled);
            IncrementNesting();
        }

        /// <summary>Leaves the region.</summary>
        public void Dispose()
        {
            if (_disposed)
                return;
            _disposed = true;
            if (DecrementNesting() == 0)
                ClearCache();
            SetEnabled(_deviceType, _wasEnabled);
            SetDtype(_deviceType, _previousDtype);
        }
    }

    /// <summary>
    /// Whether the CPU multiplies bfloat16 natively (AVX512_BF16 or AMX-BF16) and oneDNN may use it (no instruction-set
    /// ceiling below those, <see cref="OneDnnIsaCap.Ceiling"/>); <paramref name="detail"/> says what was found.
    /// </summary>
    internal static bool CpuHasNativeBFloat16(out string detail)
    {
        if (!X86Base.IsSupported || X86Base.CpuId(0, 0).Eax < 7)
        {
            detail = "not an x86-64 CPU with CPUID leaf 7";
            return false;
        }
        var avx512Bf16 = (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;
        var amxBf16 = (X86Base.CpuId(7, 0).Edx & (1 << 22)) != 0;
        if (!avx512Bf16 && !amxBf16)
        {
            detail = "no AVX512_BF16 or AMX-BF16";
            return false;
        }
        if (OneDnnIsaCap.Ceiling is { } ceiling && !CeilingAllowsBFloat16(ceiling))
        {
            detail = $"oneDNN's instruction set is capped at {ceiling}";
            return false;
        }
        detail = avx512Bf16 ? "AVX512_BF16" : "AMX-BF16";
        return true;
    }

    /// <summary>Whether a oneDNN ISA ceiling (<c>ONEDNN_MAX_CPU_ISA</c>) still admits its native bfloat16 kernels.</summary>
    internal static bool CeilingAllowsBFloat16(string ceiling)
    {
        var isa = ceiling.Trim().ToUpperInvariant();
        return isa == "ALL" || isa.Contains("BF16", StringComparison.Ordinal) || isa.Contains("AMX", StringComparison.Ordinal)
            || isa.Contains("FP16", StringComparison.Ordinal) || isa.StartsWith("AVX10", StringComparison.Ordinal);
    }

    private static string? FindMissing()
    {
        if (!NativeLibrary.TryLoad(Library, out var handle))
            return $"{Library} could not be loaded";
        foreach (var name in new[] { SetEnabledName, IsEnabledName, SetDtypeName, GetDtypeName, IncrementNestingName, DecrementNestingName, ClearCacheName })
        {
            if (!NativeLibrary.TryGetExport(handle, name, out _))
                return $"the loaded {Library} does not export {name}";
        }
        return null;
    }

    [DllImport(Library, EntryPoint = SetEnabledName)]
    private static extern void SetEnabled(sbyte deviceType, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [DllImport(Library, EntryPoint = IsEnabledName)]
    [return: MarshalAs(UnmanagedType.U1)]
    private static extern bool IsEnabled(sbyte deviceType);

    [DllImport(Library, EntryPoint = SetDtypeName)]
    private static extern void SetDtype(sbyte deviceType, sbyte scalarType);

    [DllImport(Library, EntryPoint = GetDtypeName)]
    private static extern sbyte GetDtype(sbyte deviceType);

    [DllImport(Library, EntryPoint = IncrementNestingName)]
    private static extern int IncrementNesting();

    [DllImport(Library, EntryPoint = DecrementNestingName)]
    private static extern int DecrementNesting();

    [DllImport(Library, EntryPoint = ClearCacheName)]
    private static extern void ClearCache();
}

using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace ML.DeepExtensions.Runtime;

/// <summary>
/// Caps oneDNN (libtorch's convolution and LSTM kernels) at AVX2 on AMD CPUs with AVX-512, unless the application set
/// <c>ONEDNN_MAX_CPU_ISA</c> / <c>DNNL_MAX_CPU_ISA</c> itself. On a 2-vCPU AMD EPYC Zen 5 (CPU family 26) every AVX-512
/// level of libtorch 2.10's oneDNN 3.7.1 (<c>AVX512_CORE</c>, <c>_VNNI</c>, <c>_BF16</c>) gave LSTM outputs that differ from
/// the packed (non-oneDNN) path by ~1e-2 and made small CNN trainings diverge to NaN, while <c>AVX2</c> agrees with the
/// other paths (2026-12-02, <c>TextOnnxParityTests</c>, <c>NeuralTextTrainerTests</c>, the model-format fixtures). Intel
/// AVX-512 CPUs were verified by the same suite and are left alone. oneDNN reads the variable once, at its first
/// primitive, so it is set before libtorch runs anything.
/// </summary>
internal static class OneDnnIsaCap
{
    /// <summary>What <see cref="Apply"/> did, for diagnostics.</summary>
    internal static string State { get; private set; } = "not applied";

    [DllImport("libc.so.6", EntryPoint = "setenv")]
    private static extern int SetEnv(string name, string value, int overwrite);

    /// <summary>Sets <c>ONEDNN_MAX_CPU_ISA=AVX2</c> for the process on Linux x64 AMD CPUs with AVX-512.</summary>
    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux() || !X86Base.IsSupported || !Avx512F.IsSupported || !IsAmd())
        {
            State = "not an AMD CPU with AVX-512 on Linux";
            return;
        }
        if (Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is not null || Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is not null)
        {
            State = "left to the application's ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA";
            return;
        }
        try
        {
            State = SetEnv("ONEDNN_MAX_CPU_ISA", "AVX2", 0) == 0 ? "ONEDNN_MAX_CPU_ISA=AVX2" : "setenv refused";
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            State = "no setenv in the C library";
        }
    }

    /// <summary>Whether CPUID's vendor string is "AuthenticAMD".</summary>
    private static bool IsAmd()
    {
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        return ebx == 0x68747541 && edx == 0x69746E65 && ecx == 0x444D4163; // "Auth" "enti" "cAMD"
    }
}

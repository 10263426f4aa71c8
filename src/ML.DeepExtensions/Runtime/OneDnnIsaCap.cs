using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace ML.DeepExtensions.Runtime;

/// <summary>
/// Caps oneDNN (libtorch's convolution and LSTM kernels) at AVX (no AVX2/FMA) on AMD CPUs with AVX-512, unless the
/// application set <c>ONEDNN_MAX_CPU_ISA</c> / <c>DNNL_MAX_CPU_ISA</c> itself. Measured on a 2-vCPU AMD EPYC Zen 5 (CPU
/// family 26), libtorch 2.10's oneDNN 3.7.1, 2026-12-02:
/// <list type="bullet">
/// <item>every AVX-512 level (<c>AVX512_CORE</c>, <c>_VNNI</c>, <c>_BF16</c>) gave LSTM outputs ~1e-2 off the packed
/// (non-oneDNN) path and made small CNN trainings diverge to NaN (<c>TextOnnxParityTests</c>, <c>NeuralTextTrainerTests</c>,
/// the model-format fixtures);</item>
/// <item>at <c>AVX2</c> a seeded SSD training (<c>SsdTests.Canvases_Ssd_EarnsMeanAveragePrecision</c>) still hit NaN at
/// a random step in 10 of 50 runs, every other run bit-identical — with ATen at AVX2 or AVX-512, one torch thread or two,
/// .NET's AVX-512 on or off; at <c>AVX</c> 0 of 14 (10 with <see cref="ScalarQuarantine"/>) and at <c>SSE41</c> 0 of 11 runs failed (the SSD test ~1.25× and
/// ~1.6× slower than at AVX2).</item>
/// </list>
/// The SSD NaN is not TorchSharp 0.107's scalar-finalization fault: with that fault worked around
/// (<see cref="ScalarQuarantine"/>) the SSD test at <c>AVX2</c> still hit NaN in 1 of 12 runs. Intel AVX-512 CPUs were verified by the same
/// suite and are left alone. oneDNN reads the variable once, at its first primitive, so it is set before libtorch runs
/// anything.
/// </summary>
internal static class OneDnnIsaCap
{
    /// <summary>The oneDNN ISA level set.</summary>
    internal const string Isa = "AVX";

    /// <summary>What <see cref="Apply"/> did, for diagnostics.</summary>
    internal static string State { get; private set; } = "not applied";

    [DllImport("libc.so.6", EntryPoint = "setenv")]
    private static extern int SetEnv(string name, string value, int overwrite);

    /// <summary>Sets <c>ONEDNN_MAX_CPU_ISA=AVX</c> for the process on Linux x64 AMD CPUs with AVX-512.</summary>
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
            State = SetEnv("ONEDNN_MAX_CPU_ISA", Isa, 0) == 0 ? $"ONEDNN_MAX_CPU_ISA={Isa}" : "setenv refused";
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

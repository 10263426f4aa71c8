using System;
using System.Linq;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace ML.DeepExtensions.Runtime;

/// <summary>
/// Caps oneDNN (libtorch's convolution and LSTM kernels) at AVX (no AVX2/FMA) on AMD Zen 5 CPUs (CPU family 26) and newer
/// AMD families with AVX-512, unless the application set <c>ONEDNN_MAX_CPU_ISA</c> / <c>DNNL_MAX_CPU_ISA</c> itself.
/// Measured on a 2-vCPU AMD EPYC Zen 5 (family 26), libtorch 2.10's oneDNN 3.7.1, 2026-12-02:
/// <list type="bullet">
/// <item>every AVX-512 level (<c>AVX512_CORE</c>, <c>_VNNI</c>, <c>_BF16</c>) gave LSTM outputs ~1e-2 off the packed
/// (non-oneDNN) path and made small CNN trainings diverge to NaN (<c>TextOnnxParityTests</c>, <c>NeuralTextTrainerTests</c>,
/// the model-format fixtures);</item>
/// <item>at <c>AVX2</c> a seeded SSD training (<c>SsdTests.Canvases_Ssd_EarnsMeanAveragePrecision</c>) still hit NaN at
/// a random step in 10 of 50 runs, every other run bit-identical — with ATen at AVX2 or AVX-512, one torch thread or two,
/// .NET's AVX-512 on or off; at <c>AVX</c> 0 of 14 (10 with <see cref="ScalarQuarantine"/>) and at <c>SSE41</c> 0 of 11 runs
/// failed. With <see cref="ScalarQuarantine"/> the SSD test at <c>AVX2</c> hit NaN in 1 of 12 runs on 2026-12-02 and 0 of
/// 45 on 2026-12-03 (15 of them with libtorch's allocator filling new blocks with NaN patterns); that one unexplained
/// failure keeps the cap at <c>AVX</c> on that family, at a measured cost there: ResNet-style training ~1.5× slower than at
/// <c>AVX2</c> (benchmark README, "CNN training at one thread").</item>
/// </list>
/// AMD Zen 4 (family 25) is left at oneDNN's own choice, AVX-512, because it was verified there (2-vCPU AMD EPYC family 25
/// model 17, 2026-12-03, no ceiling): the whole test suite (1,087 tests, the LSTM parity and format-fixture tests among
/// them) passed, the SSD test passed 30 of 30 runs, and convolutions and LSTMs matched float64 references within 1e-5
/// relative. Older AMD families have no AVX-512; Intel AVX-512 CPUs were verified by the same suite and are left alone.
/// An application that accepts the risk on Zen 5 sets <c>ONEDNN_MAX_CPU_ISA=AVX2</c> (or higher) before its first model.
/// oneDNN reads the variable once, at its first primitive, so it is set before libtorch runs anything. On Linux .NET keeps
/// its own copy of the environment: a value an application set with
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> before the first model is copied into the C library's
/// environment, where oneDNN reads it, on every CPU.
/// </summary>
internal static class OneDnnIsaCap
{
    /// <summary>The oneDNN ISA level set.</summary>
    internal const string Isa = "AVX";

    /// <summary>What <see cref="Apply"/> did, for diagnostics.</summary>
    internal static string State { get; private set; } = "not applied";

    /// <summary>
    /// The ISA ceiling oneDNN runs under, as <see cref="Apply"/> left it: the application's <c>ONEDNN_MAX_CPU_ISA</c> (or
    /// <c>DNNL_MAX_CPU_ISA</c>), <see cref="Isa"/> where the cap set it, null when none is set (oneDNN's best for the CPU).
    /// </summary>
    internal static string? Ceiling { get; private set; }

    /// <summary>
    /// Whether this CPU is one the cap is for (AMD, AVX-512, family <see cref="FirstCappedAmdFamily"/> or later), whether
    /// or not the application's own ceiling replaced the cap.
    /// </summary>
    internal static bool CappedCpu { get; private set; }

    /// <summary>The first AMD CPU family capped: 26 (0x1A), Zen 5; later families are capped until verified.</summary>
    internal const int FirstCappedAmdFamily = 0x1A;

    /// <summary>The variables oneDNN reads for its ISA ceiling, in its order of precedence (the second is the older name).</summary>
    private static readonly string[] Variables = ["ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"];

    [DllImport("libc.so.6", EntryPoint = "setenv")]
    private static extern int SetEnv(string name, string value, int overwrite);

    /// <summary>
    /// Sets <c>ONEDNN_MAX_CPU_ISA=AVX</c> for the process on Linux x64 AMD CPUs with AVX-512 of family
    /// <see cref="FirstCappedAmdFamily"/> or later, unless the application set
    /// either variable; a value the application set only in .NET's environment is copied into the C library's first.
    /// </summary>
    internal static void Apply()
    {
        Ceiling = Variables.Select(Environment.GetEnvironmentVariable).FirstOrDefault(value => value is not null);
        if (!OperatingSystem.IsLinux())
        {
            State = "not an AMD CPU with AVX-512 on Linux";
            return;
        }
        try
        {
            foreach (var name in Variables)
            {
                if (Environment.GetEnvironmentVariable(name) is { } value)
                    SetEnv(name, value, 1); // a no-op when it came from the process's start-up environment
            }
            if (!X86Base.IsSupported || !Avx512F.IsSupported || !IsAmd())
                State = "not an AMD CPU with AVX-512 on Linux";
            else if (CpuFamily() is var family && family < FirstCappedAmdFamily)
                State = $"not capped: AMD CPU family {family} (verified at AVX-512)";
            else
            {
                CappedCpu = true;
                if (Ceiling is not null) // the application set one
                    State = "left to the application's ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA";
                else
                {
                    var set = SetEnv("ONEDNN_MAX_CPU_ISA", Isa, 0) == 0;
                    State = set ? $"ONEDNN_MAX_CPU_ISA={Isa}" : "setenv refused";
                    Ceiling = set ? Isa : null;
                }
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            State = "no setenv in the C library";
        }
    }

    /// <summary>The CPU family from CPUID leaf 1: the base family, plus the extended family when the base is 15.</summary>
    internal static int CpuFamily()
    {
        var eax = X86Base.CpuId(1, 0).Eax;
        var baseFamily = (eax >> 8) & 0xF;
        return baseFamily == 0xF ? baseFamily + ((eax >> 20) & 0xFF) : baseFamily;
    }

    /// <summary>Whether CPUID's vendor string is "AuthenticAMD".</summary>
    private static bool IsAmd()
    {
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        return ebx == 0x68747541 && edx == 0x69746E65 && ecx == 0x444D4163; // "Auth" "enti" "cAMD"
    }
}

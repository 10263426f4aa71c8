using System;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using ML.DeepExtensions.Runtime;
using Xunit;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>
/// On AMD CPUs with AVX-512 from Zen 5 (family 26) on, libtorch's oneDNN runs capped (see <see cref="OneDnnIsaCap"/>: its
/// wider kernels gave wrong LSTM outputs and NaN trainings on a Zen 5 VM); on every other CPU, Zen 4 included, nothing is
/// changed.
/// </summary>
public class OneDnnIsaCapTests
{
    [DllImport("libc.so.6", EntryPoint = "getenv")]
    private static extern IntPtr GetEnv(string name);

    /// <summary>The process environment as libtorch reads it (.NET's own view is a copy taken at start-up).</summary>
    private static string? NativeVariable(string name) => Marshal.PtrToStringUTF8(GetEnv(name));

    private static bool IsAmdWithAvx512()
    {
        if (!X86Base.IsSupported || !Avx512F.IsSupported)
            return false;
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        Span<byte> vendor = stackalloc byte[12];
        BitConverter.TryWriteBytes(vendor, ebx);
        BitConverter.TryWriteBytes(vendor[4..], edx);
        BitConverter.TryWriteBytes(vendor[8..], ecx);
        return System.Text.Encoding.ASCII.GetString(vendor) == "AuthenticAMD";
    }

    [Fact]
    public void OneDnn_IsCapped_OnlyOnAmdZen5OrLaterWithAvx512()
    {
        TorchRuntime.EnsureInitialized();
        if (!OperatingSystem.IsLinux())
            return;
        // The ceiling the runtime reports (UnrolledLstm decides by it) is the one oneDNN reads, whoever set it.
        Assert.Equal(NativeVariable("ONEDNN_MAX_CPU_ISA") ?? NativeVariable("DNNL_MAX_CPU_ISA"), OneDnnIsaCap.Ceiling);
        if (!IsAmdWithAvx512())
        {
            Assert.Equal("not an AMD CPU with AVX-512 on Linux", OneDnnIsaCap.State);
            return;
        }
        if (OneDnnIsaCap.CpuFamily() < 26) // Zen 4 (family 25) was verified at AVX-512: oneDNN keeps its own choice
        {
            Assert.StartsWith("not capped: AMD CPU family 25", OneDnnIsaCap.State);
            Assert.Equal(Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA"), NativeVariable("ONEDNN_MAX_CPU_ISA"));
            return;
        }
        // What the application set at start-up is left as it was; otherwise the cap is in libtorch's environment.
        var appOneDnn = Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA");
        var appSetOneDnn = appOneDnn is not null || Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is not null;
        Assert.Equal(appSetOneDnn ? appOneDnn : OneDnnIsaCap.Isa, NativeVariable("ONEDNN_MAX_CPU_ISA"));
    }

    /// <summary>
    /// An application that sets <c>ONEDNN_MAX_CPU_ISA</c> with <see cref="Environment.SetEnvironmentVariable(string, string)"/>
    /// before its first model gets that ceiling, on any x64 Linux CPU: .NET keeps its own copy of the environment there, so
    /// the runtime copies the value to the C library's, where oneDNN reads it. Proved in a fresh process
    /// (tests/ML.DeepExtensions.TrainingProbe) by oneDNN's own verbose report of the ISA it runs at.
    /// </summary>
    [Theory]
    [InlineData("AVX", "isa:Intel AVX,")]
    [InlineData("SSE41", "isa:Intel SSE4.1")]
    public void OneDnn_TakesTheCeilingAnApplicationSetInDotNetsEnvironment(string isa, string reported)
    {
        if (!OperatingSystem.IsLinux() || !Avx.IsSupported)
            return;
        var (exitCode, stdout, stderr) = ML.DeepExtensions.TestSupport.TrainingProbeRunner.Run(TimeSpan.FromMinutes(2), "onednn-isa", isa);
        Assert.True(exitCode == 0, $"probe failed ({exitCode}):\n{stdout}\n{stderr}");
        Assert.Contains("convolution output 16x8x14x14", stdout);
        var isaLine = Assert.Single(stdout.Split('\n'), line => line.Contains("onednn_verbose") && line.Contains(",isa:"));
        Assert.Contains(reported, isaLine + ",");
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace ML.DeepExtensions.Benchmarks;

/// <summary>Runs a reference script of <c>benchmarks/pytorch</c> under Debian's <c>/usr/bin/python3</c> (torch, torchvision, torchaudio).</summary>
internal static class PythonSide
{
    public const string Python = "/usr/bin/python3";

    /// <summary>Runs <paramref name="scriptName"/> with <paramref name="arguments"/>: its standard output, or null and why not.</summary>
    public static (string? Output, string Problem) Run(string scriptName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "pytorch", scriptName);
        if (!File.Exists(script))
            script = Path.Combine("benchmarks", "pytorch", scriptName);
        if (!File.Exists(Python) || !File.Exists(script))
            return (null, $"{Python} or {script} missing");
        var (code, output, error) = Exec([script, .. arguments], environment);
        return code == 0 ? (output, "") : (null, $"python exited {code}: {error.Trim()}");
    }

    /// <summary>
    /// Environment for a PyTorch process limited to <paramref name="threads"/>: torch.set_num_threads in a script sets the
    /// intra-op pool, these keep a threaded BLAS (OpenBLAS, MKL) to the same count; <paramref name="blasDirectory"/> (another
    /// <c>libblas.so.3</c>, e.g. OpenBLAS unpacked from Debian's package) goes first on LD_LIBRARY_PATH.
    /// </summary>
    public static Dictionary<string, string> ThreadEnvironment(int threads, string? blasDirectory)
    {
        var environment = new[] { "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS" }
            .ToDictionary(variable => variable, _ => threads.ToString(CultureInfo.InvariantCulture));
        if (blasDirectory is not null)
        {
            var path = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            environment["LD_LIBRARY_PATH"] = string.IsNullOrEmpty(path) ? blasDirectory : blasDirectory + ":" + path;
        }
        return environment;
    }

    /// <summary>Runs <see cref="Python"/> with <paramref name="arguments"/> (and <paramref name="environment"/> added to its
    /// environment): exit code, standard output and standard error. A oneDNN ISA ceiling set for the .NET side
    /// (<c>ONEDNN_MAX_CPU_ISA</c> / <c>DNNL_MAX_CPU_ISA</c>, e.g. the library's AVX2 opt-in) is not passed on: PyTorch runs
    /// its own oneDNN at its defaults unless <paramref name="environment"/> names one.</summary>
    public static (int Code, string Output, string Error) Exec(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment.Remove("ONEDNN_MAX_CPU_ISA");
        start.Environment.Remove("DNNL_MAX_CPU_ISA");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Python} did not start.");
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, errors.Result);
    }
}

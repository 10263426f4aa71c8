using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;

namespace ML.DeepExtensions.Benchmarks;

/// <summary>Runs a reference script of <c>benchmarks/pytorch</c> under Debian's <c>/usr/bin/python3</c> (torch, torchvision, torchaudio).</summary>
internal static class PythonSide
{
    public const string Python = "/usr/bin/python3";

    /// <summary>Runs <paramref name="scriptName"/> with <paramref name="arguments"/>: its standard output, or null and why not.</summary>
    public static (string? Output, string Problem) Run(string scriptName, IEnumerable<string> arguments)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "pytorch", scriptName);
        if (!File.Exists(script))
            script = Path.Combine("benchmarks", "pytorch", scriptName);
        if (!File.Exists(Python) || !File.Exists(script))
            return (null, $"{Python} or {script} missing");
        var (code, output, error) = Exec([script, .. arguments]);
        return code == 0 ? (output, "") : (null, $"python exited {code}: {error.Trim()}");
    }

    /// <summary>Runs <see cref="Python"/> with <paramref name="arguments"/> (and <paramref name="environment"/> added to its
    /// environment): exit code, standard output and standard error.</summary>
    public static (int Code, string Output, string Error) Exec(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
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

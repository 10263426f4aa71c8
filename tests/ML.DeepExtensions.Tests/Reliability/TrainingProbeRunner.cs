using System;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace ML.DeepExtensions.TestSupport;

/// <summary>
/// Starts tests/ML.DeepExtensions.TrainingProbe (copied beside the tests) in a separate process. Also compiled into the
/// vision tests (linked from their project file).
/// </summary>
internal static class TrainingProbeRunner
{
    /// <summary>Starts the probe with <paramref name="args"/>, standard output and error redirected.</summary>
    public static Process Start(params string[] args)
    {
        var probe = Path.Combine(AppContext.BaseDirectory, "ML.DeepExtensions.TrainingProbe.dll");
        Assert.True(File.Exists(probe), $"{probe} is missing");
        var start = new ProcessStartInfo(Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? Environment.ProcessPath : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(probe);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }

    /// <summary>Runs the probe to its end: exit code (128 + signal when a signal ended it), standard output and error.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(TimeSpan timeout, params string[] args)
    {
        using var process = Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"probe {string.Join(' ', args)} did not end within {timeout}");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}

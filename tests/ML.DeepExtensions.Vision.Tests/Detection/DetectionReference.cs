using System;
using System.Diagnostics;
using System.IO;

namespace ML.DeepExtensions.Vision.Tests.Detection;

/// <summary>Runs a python snippet under Debian's python3 (with python3-torchvision for NMS); fails, never skips, when missing.</summary>
internal static class DetectionReference
{
    private const string Python = "/usr/bin/python3";
    private const string Install = "Run eng/install-reference-tools.sh (apt-get install python3-torchvision) to install the reference tools.";

    /// <summary>Runs <paramref name="script"/> with <paramref name="input"/> as its only argument; returns its standard output.</summary>
    public static string Run(string script, string input)
    {
        if (!File.Exists(Python))
            throw new InvalidOperationException($"{Python} not found: the detection reference tests compare against Debian's torchvision. {Install}");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(input);
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The python reference did not finish within 120 s.");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"The python reference failed (exit {process.ExitCode}). {Install}\n{stderr}");
        return stdout.Result;
    }
}

using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;

namespace ML.DeepExtensions.Audio.Tests;

/// <summary>
/// Runs eng/reference/torchaudio_features.py under Debian's python3 (python3-torchaudio 0.13.1, python3-torch 1.13). When
/// they are missing the tests fail (never pass silently) with the command that installs them.
/// </summary>
internal static class Reference
{
    private const string Python = "/usr/bin/python3";
    private const string Install = "Run eng/install-reference-tools.sh (apt-get install python3-torchaudio) to install the reference tools.";

    public static string Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "eng", "reference", "torchaudio_features.py");
            if (File.Exists(path))
                return path;
        }
        throw new InvalidOperationException($"eng/reference/torchaudio_features.py not found above {AppContext.BaseDirectory}.");
    }

    public static void Run(params string[] args)
    {
        if (!File.Exists(Python))
            throw new InvalidOperationException($"{Python} not found. {Install}");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Script());
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("torchaudio_features.py did not finish within 120 s.");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"torchaudio_features.py failed (exit {process.ExitCode}). {Install}\n{stderr}\n{stdout.Result}");
    }

    public static void WriteFloats(string path, float[] values) => File.WriteAllBytes(path, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public static float[] ReadFloats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();
}

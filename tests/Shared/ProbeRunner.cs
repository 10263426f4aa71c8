using System;
using System.Diagnostics;
using System.IO;
using Xunit;

namespace ML.DeepExtensions.TestSupport;

/// <summary>
/// Runs tests/ML.DeepExtensions.Probe (copied beside the tests) in a separate process: the first argument is its mode
/// (features, images, texts, tokens, generate, transform; see its Program.cs).
/// </summary>
internal static class ProbeRunner
{
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        var probe = Path.Combine(AppContext.BaseDirectory, "ML.DeepExtensions.Probe.dll");
        Assert.True(File.Exists(probe), $"{probe} is missing");
        var start = new ProcessStartInfo(Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? Environment.ProcessPath : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(probe);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(180_000), "probe timed out");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Writes feature rows in the probe's input format: int32 rows, int32 size, then rows×size float32.</summary>
    public static void WriteFeatures(string path, float[][] rows)
    {
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(rows.Length);
        writer.Write(rows.Length == 0 ? 0 : rows[0].Length);
        foreach (var row in rows)
        {
            foreach (var v in row)
                writer.Write(v);
        }
    }

    /// <summary>Reads a file written by the probe: int32 count, then float32 values.</summary>
    public static float[] ReadScores(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        var values = new float[reader.ReadInt32()];
        for (var i = 0; i < values.Length; i++)
            values[i] = reader.ReadSingle();
        return values;
    }
}

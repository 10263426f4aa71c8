using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace ML.DeepExtensions.Vision.Tests.Pretrained;

/// <summary>
/// Runs eng/reference/torchvision_resnet18.py under Debian's python3 with python3-torchvision. When they are
/// missing the tests fail (never pass silently) with the command that installs them.
/// </summary>
internal static class ReferenceTools
{
    private const string Python = "/usr/bin/python3";
    private const string Install = "Run eng/install-reference-tools.sh (apt-get install python3-torchvision) to install the reference tools.";

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "eng", "reference", "torchvision_resnet18.py")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"eng/reference/torchvision_resnet18.py not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>Writes the reference files of <paramref name="model"/> into <paramref name="directory"/> and returns its meta.json.</summary>
    public static JsonElement Generate(string model, string directory, string python = Python)
    {
        if (!File.Exists(python))
            throw new InvalidOperationException($"{python} not found: the parity tests compare against Debian's PyTorch/torchvision. {Install}");
        var script = Path.Combine(RepoRoot(), "eng", "reference", "torchvision_resnet18.py");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(directory);
        start.ArgumentList.Add("--model");
        start.ArgumentList.Add(model);
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} did not finish within 120 s.");
        }
        if (process.ExitCode != 0)
        {
            var missing = stderr.Contains("No module named", StringComparison.Ordinal) ? " torch/torchvision are missing." : "";
            throw new InvalidOperationException($"{script} failed (exit {process.ExitCode}).{missing} {Install}\n{stderr}\n{stdout.Result}");
        }
        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "meta.json")));
        return meta.RootElement.Clone();
    }

    public static float[] ReadFloats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    public static long[] Shape(JsonElement meta, string property)
    {
        var items = meta.GetProperty(property);
        var shape = new long[items.GetArrayLength()];
        for (var i = 0; i < shape.Length; i++)
            shape[i] = items[i].GetInt64();
        return shape;
    }
}

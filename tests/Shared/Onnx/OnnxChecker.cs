using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

namespace ML.DeepExtensions.Tests.Onnx;

/// <summary>
/// Runs the official ONNX checker (<c>onnx.checker.check_model(full_check=True)</c>: structure, operator schemas and shape
/// inference) from Debian's python3-onnx on exported files. Missing tools fail the test (never a silent pass) with the
/// command that installs them.
/// </summary>
internal static class OnnxChecker
{
    private const string Python = "/usr/bin/python3";

    private const string Script = """
        import sys, onnx
        failed = []
        for path in sys.argv[1:]:
            try:
                onnx.checker.check_model(onnx.load(path), full_check=True)
            except Exception as e:
                failed.append(f"{path}: {e}")
        print("\n".join(failed) if failed else f"ok {len(sys.argv) - 1} onnx {onnx.__version__}")
        sys.exit(1 if failed else 0)
        """;

    /// <summary>Checks every file; returns the checker's summary line or throws with every failure.</summary>
    public static string Check(IReadOnlyList<string> paths)
    {
        if (!System.IO.File.Exists(Python))
            throw new InvalidOperationException($"{Python} not found. Run eng/install-reference-tools.sh (apt-get install python3-onnx).");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        foreach (var path in paths)
            start.ArgumentList.Add(path);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("onnx.checker did not finish within 120 s.");
        }
        if (stderr.Contains("No module named 'onnx'", StringComparison.Ordinal))
            throw new InvalidOperationException("python3-onnx is missing. Run eng/install-reference-tools.sh (apt-get install python3-onnx).");
        if (process.ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"onnx.checker rejected exported models:\n{stdout.Result}\n{stderr}");
        return stdout.Result.Trim();
    }
}

using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text;
using ML.DeepExtensions.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Compare;

/// <summary>
/// Single-precision matmul GFLOP/s of libtorch (as TorchSharp loads it) and of Debian's PyTorch (with the BLAS its process
/// loads) on the matrix shapes the <c>--vs-pytorch</c> workloads multiply: the BLAS gap of issue 15, measured per shape.
/// <c>--gemm [--threads N] [--pytorch-blas DIR]</c>.
/// </summary>
internal static class GemmProbe
{
    public static bool Wants(string[] args) => args.Contains("--gemm");

    // (m, k, n): MLP b256 100→256 and 256→256, LeNet's 400→120 dense at b64, the Transformer's 128-wide projections over
    // b32×128 tokens and its 512-wide feed-forward, an LSTM(256) gate product at b32, and a large square for reference.
    private static readonly (int M, int K, int N)[] Shapes =
        [(256, 100, 256), (256, 256, 256), (64, 400, 120), (4096, 128, 128), (4096, 128, 512), (32, 256, 1024), (1024, 1024, 1024)];

    public static int Run(string[] args)
    {
        var threads = BenchArgs.PositiveInt(args, "--threads") ?? 1;
        var blas = BenchArgs.Value(args, "--pytorch-blas") is { } directory ? System.IO.Path.GetFullPath(directory) : null;
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(threads);
        var ours = Shapes.Select(s => Measure(s.M, s.K, s.N)).ToArray();
        var (output, problem) = PythonSide.Run("gemm.py", [$"{threads}", string.Join(';', Shapes.Select(s => $"{s.M},{s.K},{s.N}"))], PythonSide.ThreadEnvironment(threads, blas));
        var theirs = output is not null
            ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => double.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture)).ToArray()
            : null;
        var text = new StringBuilder();
        text.AppendLine($"| m×k×n ({threads} thread{(threads == 1 ? "" : "s")}) | libtorch {torch.__version__} GFLOP/s | PyTorch GFLOP/s | libtorch / PyTorch |");
        text.AppendLine("|---|---:|---:|---:|");
        for (var i = 0; i < Shapes.Length; i++)
        {
            var (m, k, n) = Shapes[i];
            var other = theirs is { } values && i < values.Length ? values[i] : double.NaN;
            text.AppendLine(CultureInfo.InvariantCulture, $"| {m}×{k}×{n} | {ours[i]:F1} | {other:F1} | {ours[i] / other:F2} |");
        }
        Console.WriteLine(text);
        if (theirs is null)
            Console.Error.WriteLine($"PyTorch side failed: {problem}");
        return 0;
    }

    /// <summary>Best of three timed runs of <c>a.matmul(b)</c> for an m×k by k×n product, in GFLOP/s.</summary>
    private static double Measure(int m, int k, int n)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(1);
        var a = torch.randn(m, k);
        var b = torch.randn(k, n);
        var repetitions = Math.Max(20, (int)(1.5e9 / (2.0 * m * k * n)));
        for (var i = 0; i < repetitions / 4; i++)
            using (a.matmul(b)) { }
        var best = 0.0;
        for (var round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < repetitions; i++)
                using (a.matmul(b)) { }
            best = Math.Max(best, 2.0 * m * k * n * repetitions / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }
}

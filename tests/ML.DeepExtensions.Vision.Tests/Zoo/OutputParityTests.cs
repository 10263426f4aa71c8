using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Vision.Zoo;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Zoo;

/// <summary>
/// Same weights, same input, same outputs as torchvision 0.14 (eval mode): torchvision_outputs.py fills every
/// state-dict entry of the reference model, in state-dict order, from a formula, and records the outputs in
/// torchvision-outputs.txt; this test fills our network's entries in <see cref="ModuleState.InPyTorchOrder"/> with the
/// same formula. Shapes alone cannot catch ReLU vs ReLU6, a misplaced stride, squeeze-excitation wiring or a missing
/// residual connection; outputs do.
/// </summary>
public class OutputParityTests
{
    private static string RepoDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Directory.Build.props")))
                return dir.FullName;
        throw new DirectoryNotFoundException($"No repository root above {AppContext.BaseDirectory}.");
    }

    private static Dictionary<string, (int Size, double[][] Rows)> References()
    {
        var lines = File.ReadAllLines(Path.Combine(RepoDirectory(), "tests", "ML.DeepExtensions.Vision.Tests", "Zoo", "torchvision-outputs.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        var result = new Dictionary<string, (int, double[][])>();
        for (var i = 0; i < lines.Length; i += 4)
        {
            var rows = lines.Skip(i + 2).Take(2).Select(l => l.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
            result[lines[i][1..^1]] = (int.Parse(lines[i + 1], CultureInfo.InvariantCulture), rows);
        }
        return result;
    }

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in References().Keys)
            data.Add(name);
        return data;
    }

    /// <summary>The formula of torchvision_outputs.py's <c>fill</c>, entry k of the state dict.</summary>
    private static void Fill(nn.Module module)
    {
        using var noGrad = torch.no_grad();
        var state = ModuleState.InPyTorchOrder(module);
        for (var k = 0; k < state.Count; k++)
        {
            var (key, tensor) = state[k];
            if (key.EndsWith("num_batches_tracked", StringComparison.Ordinal))
                continue;
            var n = tensor.numel();
            using var u = (torch.arange(n, dtype: ScalarType.Int64) * 2654435761L + k * 97531L).remainder(20011).to(ScalarType.Float32) / 10005.5 - 1;
            using var v = key.EndsWith("running_var", StringComparison.Ordinal) ? u * 0.25 * u + 1
                : key.EndsWith("weight", StringComparison.Ordinal) && tensor.dim() >= 2 ? u * Math.Pow(6.0 / (n / tensor.shape[0]), 0.5)
                : key.EndsWith("weight", StringComparison.Ordinal) ? u * 0.1 + 1
                : u * 0.1;
            tensor.copy_(v.reshape(tensor.shape));
        }
    }

    [Theory]
    [Trait("Category", "Reference")]
    [MemberData(nameof(Cases))]
    public void SameWeights_GiveTorchvisionsOutputs(string section)
    {
        var (size, rows) = References()[section];
        var parts = section.Split(' ');
        var parameters = parts.Skip(1).Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(0);
        using var module = VisionArchitectures.Get(parts[0]).CreateNetwork(parameters).Build([3, size, size], new BuildContext(generator));
        Fill(module);
        module.eval();
        using var noGrad = torch.no_grad();
        var x = (torch.arange(2 * 3 * size * size, dtype: ScalarType.Int64) * 2654435761L).remainder(1009).to(ScalarType.Float32).reshape(2, 3, size, size) / 504.5 - 1;
        var y = module.forward(x);
        for (var example = 0; example < 2; example++)
        {
            var row = y[example];
            var expected = rows[example];
            var values = new[] { row.sum().item<float>(), (row * row).sum().item<float>() }.Concat(row[..16].data<float>().ToArray()).ToArray();
            for (var i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(values[i] - expected[i]) <= 1e-4 + 1e-3 * Math.Abs(expected[i]),
                    $"{section} example {example} {(i == 0 ? "sum" : i == 1 ? "sum of squares" : $"value {i - 2}")}: torchvision {expected[i]}, ours {values[i]}");
        }
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Onnx;

/// <summary>
/// Builds a network with random weights (every parameter and batch-norm statistic perturbed, so identity-initialised
/// layers are not trivially right), exports it, and compares ONNX Runtime's outputs with TorchSharp's on random inputs.
/// </summary>
internal static class OnnxParity
{
    /// <summary>Largest |output| of the last comparison (printed by failing tests: a tolerance only means something at order one).</summary>
    [ThreadStatic]
    public static float LastOutputMagnitude;

    /// <summary>Max |ONNX Runtime − TorchSharp| over the outputs, for each batch size.</summary>
    public static IReadOnlyList<float> MaxAbsDifferences(Network network, int[] inputShape, int opset = 17, int seed = 1,
        Func<Random, float>? value = null, int[]? batches = null, string? saveTo = null)
    {
        using var model = NetworkModel.Build(network, inputShape, seed, CPU);
        value ??= r => (float)(r.NextDouble() * 4 - 2);
        Perturb(model, seed, value);
        var bytes = Export(model, opset);
        if (saveTo is not null)
            File.WriteAllBytes(saveTo, bytes);
        using var session = new InferenceSession(bytes);
        var random = new Random(seed);
        var result = new List<float>();
        foreach (var batch in batches ?? [1, 5])
        {
            var size = batch * inputShape.Aggregate(1, (a, d) => a * d);
            var x = Enumerable.Range(0, size).Select(_ => value(random)).ToArray();
            var expected = Torch(model, x, batch);
            var actual = Ort(session, x, [batch, .. inputShape]);
            Xunit.Assert.Equal(expected.Length, actual.Length);
            result.Add(expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)));
            LastOutputMagnitude = expected.Max(Math.Abs);
            // A comparison of near-zero or non-finite outputs would prove nothing.
            Xunit.Assert.True(LastOutputMagnitude > 1e-2 && float.IsFinite(LastOutputMagnitude), $"outputs are degenerate: largest |output| {LastOutputMagnitude}");
        }
        return result;
    }

    public static byte[] Export(NetworkModel model, int opset)
    {
        using var stream = new MemoryStream();
        NetworkOnnxExport.WriteNetwork(model, stream, opset);
        return stream.ToArray();
    }

    public static float[] Torch(NetworkModel model, float[] x, int batch)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var input = torch.tensor(x, [batch, .. model.InputShape.Select(d => (long)d)]);
        return model.Module.forward(input).contiguous().data<float>().ToArray();
    }

    public static float[] Ort(InferenceSession session, float[] x, int[] shape)
    {
        var input = NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.First(), new DenseTensor<float>(x, shape));
        using var results = session.Run([input]);
        return results.First().AsTensor<float>().ToArray();
    }

    /// <summary>
    /// Biases and normalization scales get random offsets (matrices are already randomly initialised); batch-norm running
    /// statistics are then learned from random batches in training mode, as training would, so that deep networks keep
    /// outputs of order one in scoring mode and the absolute tolerance means something.
    /// </summary>
    private static void Perturb(NetworkModel model, int seed, Func<Random, float> value)
    {
        using (var scope = torch.NewDisposeScope())
        using (var noGrad = torch.no_grad())
        using (var generator = new Generator((ulong)seed + 17))
        {
            foreach (var (_, parameter) in model.Module.named_parameters())
            {
                if (parameter.dim() == 1)
                    parameter.add_(torch.randn(parameter.shape, generator: generator).mul_(0.1));
            }
        }
        if (!model.Module.named_buffers().Any(b => b.name.EndsWith("running_mean", StringComparison.Ordinal)))
            return;
        var random = new Random(seed + 31);
        var size = 8 * model.InputShape.Aggregate(1, (a, d) => a * d);
        model.Module.train();
        try
        {
            for (var step = 0; step < 30; step++)
            {
                using var scope = torch.NewDisposeScope();
                using var noGrad = torch.no_grad();
                var x = torch.tensor(Enumerable.Range(0, size).Select(_ => value(random)).ToArray(), [8, .. model.InputShape.Select(d => (long)d)]);
                model.Module.forward(x);
            }
        }
        finally
        {
            model.Module.eval();
        }
    }
}

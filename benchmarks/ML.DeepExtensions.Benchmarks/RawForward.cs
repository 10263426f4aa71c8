using System;
using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks;

/// <summary>Seconds for batched no-grad forward passes over all rows of X (outputs copied to managed arrays, like NetworkModel.Forward); NaN if an output was NaN.</summary>
internal static class RawForward
{
    public static double Seconds(nn.Module<Tensor, Tensor> module, Tensor x, int batchSize)
    {
        module.eval();
        var rows = (int)x.shape[0];
        double checksum = 0;
        var clock = Stopwatch.StartNew();
        using (torch.no_grad())
        {
            for (var start = 0; start < rows; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var output = module.forward(x.narrow(0, start, Math.Min(batchSize, rows - start)));
                checksum += output.data<float>().ToArray()[0];
            }
        }
        clock.Stop();
        return double.IsNaN(checksum) ? double.NaN : clock.Elapsed.TotalSeconds;
    }
}

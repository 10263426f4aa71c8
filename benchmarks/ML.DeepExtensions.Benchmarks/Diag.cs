using System;
using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ML.DeepExtensions.Benchmarks;

internal static class Diag
{
    public static void Run(string[] args)
    {
        ML.DeepExtensions.Runtime.TorchRuntime.EnsureInitialized();
        if (args.Length > 1) torch.set_num_threads(int.Parse(args[1]));
        Console.WriteLine($"threads {torch.get_num_threads()}");
        torch.random.manual_seed(1);
        var x = torch.rand(32, 64);
        var y = torch.randint(0, 10, new long[] { 32 });
        foreach (var (name, build) in new (string, Func<nn.Module<Tensor, Tensor>>)[] {
            ("lin64x128", () => nn.Sequential(("0", nn.Linear(64, 128)))),
            ("lin128x64", () => nn.Sequential(("0", nn.Linear(128, 64)))),
            ("lin64x10", () => nn.Sequential(("0", nn.Linear(64, 10)))),
            ("lin512x64", () => nn.Sequential(("0", nn.Linear(512, 64)))),
            ("mlp", () => nn.Sequential(("0", nn.Linear(64, 128)), ("1", nn.ReLU()), ("2", nn.Linear(128, 64)), ("3", nn.ReLU()), ("4", nn.Linear(64, 10)))) })
        {
            var m = build();
            var opt = optim.Adam(m.parameters(), 1e-3);
            var input = name == "lin128x64" ? torch.rand(32, 128) : name == "lin512x64" ? torch.rand(32, 512) : x;
            for (var phase = 0; phase < 2; phase++)
            {
                double fwd = 0, bwd = 0, stp = 0;
                const int steps = 50;
                for (var i = 0; i < steps; i++)
                {
                    using var scope = torch.NewDisposeScope();
                    var sw = Stopwatch.StartNew();
                    opt.zero_grad();
                    var o = m.forward(input);
                    var loss = o.sum();
                    var l = loss.item<float>();
                    fwd += sw.Elapsed.TotalMilliseconds; sw.Restart();
                    loss.backward();
                    bwd += sw.Elapsed.TotalMilliseconds; sw.Restart();
                    opt.step();
                    stp += sw.Elapsed.TotalMilliseconds;
                }
                if (phase == 1) Console.WriteLine($"{name}: fwd {fwd/steps:F3} ms, bwd {bwd/steps:F3} ms, step {stp/steps:F3} ms");
            }
        }
    }
}

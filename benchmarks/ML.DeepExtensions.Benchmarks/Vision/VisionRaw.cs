using System;
using System.Diagnostics;
using System.Linq;
using ML.DeepExtensions.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ML.DeepExtensions.Benchmarks.Vision;

/// <summary>
/// The hand-written side of the vision benchmark: the network our trainer actually trained (its
/// <c>NeuralNetworkTransformer.Network</c>, i.e. the trainer's normalisation/augmentation layers, the zoo
/// architecture and the output layer) built by the engine's own internal <c>NetworkModel.Build</c> (reached by
/// reflection, as <see cref="BatchSourceProbe"/> does) from the same seed, so both sides start from the same
/// weights; then a bare TorchSharp loop on pre-built tensors with the engine's per-epoch shuffle.
/// </summary>
internal sealed class VisionRawTrainer : IDisposable
{
    private readonly IDisposable _model;
    private readonly Adam _optimizer;
    private readonly Tensor _x;
    private readonly Tensor _y;
    private readonly int _seed;

    public VisionRawTrainer(Network network, int[] inputShape, Tensor x, Tensor y, int seed, double learningRate)
    {
        _x = x;
        _y = y;
        _seed = seed;
        (_model, Module) = Build(network, inputShape, seed);
        _optimizer = optim.Adam(Module.parameters(), learningRate, 0.9, 0.999, 1e-8);
    }

    public nn.Module<Tensor, Tensor> Module { get; }

    public long Parameters => Module.parameters().Sum(p => p.numel());

    /// <summary>NetworkModel.Build(network, inputShape, seed, CPU) by reflection: (the model to dispose, its module).</summary>
    public static (IDisposable Model, nn.Module<Tensor, Tensor> Module) Build(Network network, int[] inputShape, int seed)
    {
        var type = typeof(Microsoft.ML.NeuralNetworkCatalog).Assembly.GetType("ML.DeepExtensions.Scoring.NetworkModel", throwOnError: true)!;
        var build = type.GetMethod("Build", [typeof(Network), typeof(int[]), typeof(int), typeof(Device)])
            ?? throw new MissingMethodException("ML.DeepExtensions.Scoring.NetworkModel.Build(Network, int[], int, Device) was not found: update the benchmark.");
        var model = (IDisposable)build.Invoke(null, [network, inputShape, seed, CPU])!;
        var module = (nn.Module<Tensor, Tensor>)type.GetProperty("Module")!.GetValue(model)!;
        return (model, module);
    }

    /// <summary>Runs one epoch over all rows of X (same System.Random shuffle as TrainingLoop); returns the example-weighted mean loss.</summary>
    public double Epoch(int epoch, int batchSize)
    {
        var n = (int)_x.shape[0];
        var order = Enumerable.Range(0, n).ToArray();
        new Random(unchecked(_seed * 1_000_003 + epoch)).Shuffle(order);
        Module.train();
        double lossSum = 0;
        using var permutation = torch.tensor(order.Select(i => (long)i).ToArray());
        for (var start = 0; start < n; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            var count = Math.Min(batchSize, n - start);
            var index = permutation.narrow(0, start, count);
            var x = _x.index_select(0, index);
            var y = _y.index_select(0, index);
            _optimizer.zero_grad();
            var output = Module.forward(x);
            var loss = F.cross_entropy(output, y);
            loss.backward();
            _optimizer.step();
            lossSum += loss.item<float>() * count;
        }
        return lossSum / n;
    }

    /// <summary>Images per second of batched no-grad forward passes over X (outputs copied to managed arrays, like NetworkModel.Forward).</summary>
    public static double ForwardImagesPerSecond(nn.Module<Tensor, Tensor> module, Tensor x, int batchSize)
        => x.shape[0] / RawForward.Seconds(module, x, batchSize);

    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
    }
}

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ML.DeepExtensions.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ML.DeepExtensions.Benchmarks;

/// <summary>
/// A benchmark network written twice: as our layer DSL body (the trainer appends Dense(classes)) and as a
/// hand-built TorchSharp <c>Sequential</c> with the same modules in the same order, so that the same seed gives
/// the same initial weights on both sides.
/// </summary>
internal sealed record BenchNetwork(string Name, string Description, Network Body, Func<int, nn.Module<Tensor, Tensor>> BuildRaw)
{
    public static readonly BenchNetwork Cnn = new(
        "CNN",
        "Reshape(1,8,8) → Conv2d(32,3,pad 1) → ReLU → Conv2d(32,3,pad 1) → ReLU → MaxPool2d(2) → Flatten → Dense(64) → ReLU → Dense(10)",
        Network.Create().Reshape(1, 8, 8).Conv2d(32, 3, padding: 1).ReLU().Conv2d(32, 3, padding: 1).ReLU().MaxPool2d(2).Flatten().Dense(64).ReLU(),
        classes => nn.Sequential(
            ("0", new RawReshape(1, 8, 8)),
            ("1", nn.Conv2d(1, 32, 3, 1, 1)),
            ("2", nn.ReLU()),
            ("3", nn.Conv2d(32, 32, 3, 1, 1)),
            ("4", nn.ReLU()),
            ("5", nn.MaxPool2d(2, 2)),
            ("6", nn.Flatten()),
            ("7", nn.Linear(32 * 4 * 4, 64)),
            ("8", nn.ReLU()),
            ("9", nn.Linear(64, classes))));

    public static readonly BenchNetwork Mlp = new(
        "MLP",
        "64 → Dense(128) → ReLU → Dense(64) → ReLU → Dense(10)",
        Network.Mlp([128, 64]),
        classes => nn.Sequential(
            ("0", nn.Linear(64, 128)),
            ("1", nn.ReLU()),
            ("2", nn.Linear(128, 64)),
            ("3", nn.ReLU()),
            ("4", nn.Linear(64, classes))));
}

/// <summary>(N, 64) → (N, 1, 8, 8), like our Reshape layer.</summary>
internal sealed class RawReshape : nn.Module<Tensor, Tensor>
{
    private readonly long[] _shape;

    public RawReshape(params long[] shape) : base("Reshape") => _shape = shape;

    public override Tensor forward(Tensor input) => input.reshape(new[] { input.shape[0] }.Concat(_shape).ToArray());
}

/// <summary>What a hand-written loop does per step, from the bare minimum to a replica of our engine.</summary>
internal enum LoopVariant
{
    /// <summary>index_select batches from pre-built tensors; zero_grad, forward, cross-entropy, backward, step; loss.item().</summary>
    Raw,
    /// <summary>Raw + what TrainingLoop does besides: set lr on every group, .to(device), loss.ToDouble() before backward, argmax/eq/sum/ToInt64 accuracy.</summary>
    EngineStep,
    /// <summary>EngineStep + batches assembled like BatchSource (managed gather into new float[], torch.tensor copy, LINQ label conversion), on the training thread.</summary>
    ManagedBatches,
    /// <summary>ManagedBatches produced on a background task through a BlockingCollection of 4, like BatchSource.Prefetch.</summary>
    Prefetch,
}

/// <summary>The hand-written TorchSharp training loop on pre-built tensors.</summary>
internal sealed class RawTrainer : IDisposable
{
    private const int ChunkRows = 4096; // ExampleReader chunk size used by BatchSource.Create

    private readonly nn.Module<Tensor, Tensor> _module;
    private readonly Adam _optimizer;
    private readonly Tensor _x;
    private readonly Tensor _y;
    private readonly DigitsData _data;
    private readonly int _seed;

    public RawTrainer(BenchNetwork network, DigitsData data, Tensor x, Tensor y, int seed, double learningRate)
    {
        _data = data;
        _x = x;
        _y = y;
        _seed = seed;
        // Same sequence as NetworkModel.Build: seed the global generator, then build the modules in order.
        torch.random.manual_seed(seed);
        _module = network.BuildRaw(data.Classes);
        _optimizer = optim.Adam(_module.parameters(), learningRate, 0.9, 0.999, 1e-8);
    }

    public nn.Module<Tensor, Tensor> Module => _module;

    /// <summary>Runs one epoch; returns the example-weighted mean training loss.</summary>
    public double Epoch(int epoch, int batchSize, LoopVariant variant)
    {
        var n = _data.Rows;
        // Same shuffle as TrainingLoop (a fresh System.Random per epoch), so both sides see the same batches.
        var order = Enumerable.Range(0, n).ToArray();
        new Random(unchecked(_seed * 1_000_003 + epoch)).Shuffle(order);
        _module.train();
        double lossSum = 0;
        long correct = 0;
        if (variant is LoopVariant.Raw or LoopVariant.EngineStep)
        {
            using var permutation = torch.tensor(order.Select(i => (long)i).ToArray());
            for (var start = 0; start < n; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var count = Math.Min(batchSize, n - start);
                var index = permutation.narrow(0, start, count);
                var x = _x.index_select(0, index);
                var y = _y.index_select(0, index);
                lossSum += Step(x, y, variant, ref correct) * count;
            }
        }
        else
        {
            var batches = ManagedBatches(order, batchSize);
            if (variant == LoopVariant.Prefetch)
                batches = Prefetch(batches);
            foreach (var (bx, by) in batches)
            {
                using (bx)
                using (by)
                {
                    using var scope = torch.NewDisposeScope();
                    var count = (int)by.shape[0];
                    lossSum += Step(bx.to(CPU), by.to(CPU), variant, ref correct) * count;
                }
            }
        }
        return lossSum / n;
    }

    private double Step(Tensor x, Tensor y, LoopVariant variant, ref long correct)
    {
        if (variant == LoopVariant.Raw)
        {
            _optimizer.zero_grad();
            var output = _module.forward(x);
            var loss = F.cross_entropy(output, y);
            loss.backward();
            _optimizer.step();
            return loss.item<float>();
        }
        else
        {
            foreach (var group in _optimizer.ParamGroups)
                group.LearningRate = group.LearningRate;
            var xd = x.to(CPU);
            var yd = y.to(CPU);
            _optimizer.zero_grad();
            var output = _module.forward(xd);
            var loss = F.cross_entropy(output, yd);
            var value = loss.ToDouble();
            loss.backward();
            _optimizer.step();
            using (torch.no_grad())
            {
                using var predicted = output.detach().argmax(1);
                using var hits = predicted.eq(yd).sum();
                correct += hits.ToInt64();
            }
            return value;
        }
    }

    /// <summary>Replica of InMemoryBatchSource.Produce + BatchSource.Gather/MakeBatch over 4096-row chunks.</summary>
    private IEnumerable<(Tensor X, Tensor Y)> ManagedBatches(int[] order, int batchSize)
    {
        var (chunkFeatures, chunkLabels, chunkStarts) = Chunks();
        var size = DigitsData.FeatureSize;
        for (var start = 0; start < order.Length; start += batchSize)
        {
            var count = Math.Min(batchSize, order.Length - start);
            var features = new float[count * size];
            var labels = new float[count];
            for (var i = 0; i < count; i++)
            {
                var index = order[start + i];
                var c = Array.BinarySearch(chunkStarts, index);
                if (c < 0)
                    c = ~c - 1;
                var row = index - chunkStarts[c];
                Array.Copy(chunkFeatures[c], row * size, features, i * size, size);
                labels[i] = chunkLabels[c][row];
            }
            yield return (torch.tensor(features, new long[] { count, size }), torch.tensor(labels.Select(l => (long)l).ToArray(), new long[] { count }));
        }
    }

    private (float[][] Features, float[][] Labels, int[] Starts)? _chunks;

    private (float[][] Features, float[][] Labels, int[] Starts) Chunks()
    {
        if (_chunks is { } cached)
            return cached;
        var n = _data.Rows;
        var size = DigitsData.FeatureSize;
        var count = (n + ChunkRows - 1) / ChunkRows;
        var features = new float[count][];
        var labels = new float[count][];
        var starts = new int[count];
        for (var c = 0; c < count; c++)
        {
            starts[c] = c * ChunkRows;
            var rows = Math.Min(ChunkRows, n - starts[c]);
            features[c] = new float[ChunkRows * size];
            labels[c] = new float[ChunkRows];
            Array.Copy(_data.Features, starts[c] * size, features[c], 0, rows * size);
            for (var r = 0; r < rows; r++)
                labels[c][r] = _data.Labels[starts[c] + r];
        }
        _chunks = (features, labels, starts);
        return _chunks.Value;
    }

    /// <summary>Replica of BatchSource.Prefetch: a producer task and a bounded queue of 4 batches.</summary>
    private static IEnumerable<(Tensor X, Tensor Y)> Prefetch(IEnumerable<(Tensor X, Tensor Y)> source)
    {
        using var queue = new BlockingCollection<(Tensor X, Tensor Y)>(boundedCapacity: 4);
        var producer = Task.Run(() =>
        {
            try
            {
                foreach (var batch in source)
                    queue.Add(batch);
            }
            finally
            {
                queue.CompleteAdding();
            }
        });
        foreach (var batch in queue.GetConsumingEnumerable())
            yield return batch;
        producer.GetAwaiter().GetResult();
    }

    /// <summary>Rows per second of batched no-grad forward passes over all rows of <paramref name="x"/> (output copied to a managed array, like NetworkModel.Forward).</summary>
    public static double ForwardRowsPerSecond(nn.Module<Tensor, Tensor> module, Tensor x, int batchSize, out double checksum)
    {
        module.eval();
        checksum = 0;
        var rows = (int)x.shape[0];
        var clock = Stopwatch.StartNew();
        using (torch.no_grad())
        {
            for (var start = 0; start < rows; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var output = module.forward(x.narrow(0, start, Math.Min(batchSize, rows - start)));
                var values = output.data<float>().ToArray();
                checksum += values[0];
            }
        }
        clock.Stop();
        return rows / clock.Elapsed.TotalSeconds;
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _module.Dispose();
    }
}

/// <summary>
/// Times the engine's real <c>InMemoryBatchSource</c> (internal, reached by reflection) enumerating one epoch of
/// batches without training: the cost of batch assembly alone, including its prefetch thread.
/// </summary>
internal static class BatchSourceProbe
{
    public static double? EpochSeconds(DigitsData data, int batchSize, int seed, out string? error)
    {
        error = null;
        try
        {
            var assembly = typeof(Microsoft.ML.NeuralNetworkCatalog).Assembly;
            var chunkType = assembly.GetType("ML.DeepExtensions.Training.ExampleChunk", throwOnError: true)!;
            var sourceType = assembly.GetType("ML.DeepExtensions.Training.InMemoryBatchSource", throwOnError: true)!;
            var chunks = (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(chunkType))!;
            const int chunkRows = 4096;
            for (var start = 0; start < data.Rows; start += chunkRows)
            {
                var rows = Math.Min(chunkRows, data.Rows - start);
                var features = new float[chunkRows * DigitsData.FeatureSize];
                var labels = new float[chunkRows];
                Array.Copy(data.Features, start * DigitsData.FeatureSize, features, 0, rows * DigitsData.FeatureSize);
                for (var r = 0; r < rows; r++)
                    labels[r] = data.Labels[start + r];
                chunks.Add(Activator.CreateInstance(chunkType, features, labels, rows));
            }
            var source = Activator.CreateInstance(sourceType, chunks, data.Rows, DigitsData.FeatureSize, ScalarType.Int64)!;
            var batches = sourceType.GetMethod("Batches")!;
            var clock = Stopwatch.StartNew();
            var enumerable = (System.Collections.IEnumerable)batches.Invoke(source, [batchSize, new Random(seed), CancellationToken.None, false])!;
            foreach (var batch in enumerable)
                ((IDisposable)batch).Dispose();
            clock.Stop();
            return clock.Elapsed.TotalSeconds;
        }
        catch (Exception ex)
        {
            error = ex.GetType().Name + ": " + ex.Message;
            return null;
        }
    }
}

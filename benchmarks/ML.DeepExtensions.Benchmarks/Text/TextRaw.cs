using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ML.DeepExtensions.Benchmarks.Text;

/// <summary>How the rows of one epoch are grouped into batches.</summary>
internal enum BatchPlan
{
    /// <summary>The engine's order: per-epoch System.Random shuffle, consecutive chunks (each batch trimmed to its longest row by the network / batch source).</summary>
    Shuffled,
    /// <summary>Length buckets: rows sorted by token count (ties in shuffled order), consecutive chunks, then the batch order shuffled.</summary>
    Bucketed,
    /// <summary>GPT only: every batch padded to MaxLength (no per-batch trimming).</summary>
    PaddedToMax,
}

/// <summary>Batches of row indices for one epoch, and the token positions they make the network process.</summary>
internal static class Batches
{
    public static List<int[]> Make(int[] lengths, int batchSize, int seed, int epoch, BatchPlan plan)
    {
        var n = lengths.Length;
        var order = Enumerable.Range(0, n).ToArray();
        new Random(unchecked(seed * 1_000_003 + epoch)).Shuffle(order);
        if (plan == BatchPlan.Bucketed)
            order = order.OrderBy(i => lengths[i]).ToArray(); // stable: ties keep the shuffled order
        var batches = new int[(n + batchSize - 1) / batchSize][];
        for (var b = 0; b < batches.Length; b++)
            batches[b] = order.AsSpan(b * batchSize, Math.Min(batchSize, n - b * batchSize)).ToArray();
        if (plan == BatchPlan.Bucketed)
            new Random(unchecked(seed * 7_919 + epoch)).Shuffle(batches);
        return batches.ToList();
    }

    /// <summary>Positions (rows × width) the batches make the network process, width = the longest row of the batch (+ extra), or maxLength when padded.</summary>
    public static long Positions(IEnumerable<int[]> batches, int[] lengths, int extra, int maxLength, bool padded)
        => batches.Sum(b => (long)b.Length * (padded ? maxLength : Math.Min(maxLength, b.Max(i => lengths[i]) + extra)));
}

/// <summary>
/// The hand-written side for the text classifiers: the network our trainer trained (<c>NeuralNetworkTransformer.Network</c>:
/// the text encoder architecture, dropout and the output layer) built by the engine's internal <c>NetworkModel.Build</c> from the
/// same seed, then a bare loop on a pre-built (rows, MaxLength) tensor of token ids (floats, as the engine feeds them):
/// <c>index_select</c> batches, dispose scope per step, <c>cross_entropy</c>, Adam, <c>loss.item()</c>.
/// </summary>
internal sealed class TextRawTrainer : IDisposable
{
    private readonly IDisposable _model;
    private readonly Adam _optimizer;
    private readonly Tensor _x;
    private readonly Tensor _y;

    public TextRawTrainer(Network network, int[] inputShape, Tensor x, Tensor y, int seed, double learningRate)
    {
        _x = x;
        _y = y;
        (_model, Module) = VisionRawTrainer.Build(network, inputShape, seed);
        _optimizer = optim.Adam(Module.parameters(), learningRate, 0.9, 0.999, 1e-8);
    }

    public nn.Module<Tensor, Tensor> Module { get; }

    public long Parameters => Module.parameters().Sum(p => p.numel());

    /// <summary>One epoch over the given batches; returns the example-weighted mean loss.</summary>
    public double Epoch(IReadOnlyList<int[]> batches)
    {
        Module.train();
        double lossSum = 0;
        long rows = 0;
        foreach (var batch in batches)
        {
            using var scope = torch.NewDisposeScope();
            var index = torch.tensor(batch.Select(i => (long)i).ToArray());
            var x = _x.index_select(0, index);
            var y = _y.index_select(0, index);
            _optimizer.zero_grad();
            var loss = F.cross_entropy(Module.forward(x), y);
            loss.backward();
            _optimizer.step();
            lossSum += loss.item<float>() * batch.Length;
            rows += batch.Length;
        }
        return lossSum / rows;
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
    }
}

/// <summary>
/// The hand-written side for the GPT language model: the same network the estimator builds
/// (<c>Transformer(causal) → Dense(vocabulary)</c>) from the same seed through <c>NetworkModel.Build</c>, batches made as
/// <c>SequenceBatchSource</c> makes them (inputs = start position + ids shifted right, targets = ids, positions after the
/// end marker ignored), each batch as wide as its longest text + 1, or MaxLength when padded.
/// </summary>
internal sealed class GptRawTrainer : IDisposable
{
    private readonly IDisposable _model;
    private readonly Adam _optimizer;
    private readonly int[][] _rows;
    private readonly int[] _lengths;
    private readonly int _maxLength;
    private readonly int _paddingId;

    public GptRawTrainer(Network network, int[][] rows, int[] lengths, int maxLength, int paddingId, int seed, double learningRate)
    {
        _rows = rows;
        _lengths = lengths;
        _maxLength = maxLength;
        _paddingId = paddingId;
        (_model, Module) = VisionRawTrainer.Build(network, [maxLength], seed);
        _optimizer = optim.Adam(Module.parameters(), learningRate, 0.9, 0.999, 1e-8);
    }

    public nn.Module<Tensor, Tensor> Module { get; }

    public long Parameters => Module.parameters().Sum(p => p.numel());

    /// <summary>One epoch; with <paramref name="metrics"/>, also what the engine's training-metric accumulator does per step for a language
    /// model (a second, summed cross-entropy and an argmax over the vocabulary logits, read back to the CPU).</summary>
    public double Epoch(IReadOnlyList<int[]> batches, bool padded, bool metrics = false)
    {
        Module.train();
        double lossSum = 0;
        long rows = 0;
        foreach (var batch in batches)
        {
            using var scope = torch.NewDisposeScope();
            var width = padded ? _maxLength : Math.Min(_maxLength, batch.Max(i => _lengths[i]) + 1);
            var features = new float[batch.Length * width];
            var labels = new long[batch.Length * width];
            for (var r = 0; r < batch.Length; r++)
            {
                var ids = _rows[batch[r]];
                features[r * width] = _paddingId;
                for (var j = 1; j < width; j++)
                    features[r * width + j] = ids[j - 1];
                var tokens = _lengths[batch[r]];
                for (var j = 0; j < width; j++)
                    labels[r * width + j] = j > tokens ? -100 : ids[j];
            }
            var x = torch.tensor(features, new long[] { batch.Length, width });
            var y = torch.tensor(labels, new long[] { batch.Length, width });
            _optimizer.zero_grad();
            var output = Module.forward(x);
            var loss = F.cross_entropy(output.reshape(-1, output.shape[^1]), y.reshape(-1), ignore_index: -100);
            loss.backward();
            _optimizer.step();
            lossSum += loss.item<float>() * batch.Length;
            rows += batch.Length;
            if (metrics)
            {
                var logits = output.detach().reshape(-1, output.shape[^1]);
                var targets = y.reshape(-1);
                _ = F.cross_entropy(logits, targets, ignore_index: -100, reduction: nn.Reduction.Sum).ToDouble();
                var valid = targets.ne(-100);
                _ = valid.sum().ToInt64();
                _ = logits.argmax(1).eq(targets).logical_and(valid).sum().ToInt64();
            }
        }
        return lossSum / rows;
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ML.DeepExtensions.Training;
using TorchSharp;
using Xunit;

namespace ML.DeepExtensions.Tests.Training;

/// <summary>Issue 15: length bucketing keeps every row once per epoch in a seeded order, and cuts the padding of each batch.</summary>
public class LengthBucketingTests
{
    private const int Rows = 1_000;
    private const int Width = 40;
    private const int BatchSize = 16;

    /// <summary>Row i: a first feature i (its identity), then a random number of non-zero "tokens" and zero padding.</summary>
    private static (InMemoryBatchSource Source, int[] Lengths) Source(bool bucketing)
    {
        var random = new Random(5);
        var lengths = Enumerable.Range(0, Rows).Select(_ => random.Next(1, Width)).ToArray();
        var features = new float[Rows * Width];
        for (var i = 0; i < Rows; i++)
        {
            features[i * Width] = i;
            for (var t = 1; t < lengths[i]; t++)
                features[i * Width + t] = 1;
        }
        var source = new InMemoryBatchSource([new ExampleChunk(features, new float[Rows], Rows)], Rows, Width, torch.ScalarType.Float32,
            bucketing ? row => row.Span[1..].IndexOf(0f) is var zero && zero < 0 ? Width : zero + 1 : null);
        return (source, lengths);
    }

    private static List<int[]> Epoch(InMemoryBatchSource source, int seed)
    {
        var batches = new List<int[]>();
        foreach (var batch in source.Batches(BatchSize, new Random(seed), CancellationToken.None))
        {
            using (batch)
                batches.Add(batch.Features.select(1, 0).data<float>().ToArray().Select(v => (int)v).ToArray());
        }
        return batches;
    }

    [Fact]
    public void Bucketing_SeesEveryRowOnce_InASeededOrder_WithTheShortBatchLast()
    {
        var (source, _) = Source(bucketing: true);
        var epoch = Epoch(source, seed: 1);
        Assert.Equal(Enumerable.Range(0, Rows), epoch.SelectMany(b => b).Order());
        Assert.All(epoch.SkipLast(1), b => Assert.Equal(BatchSize, b.Length));
        Assert.Equal(Rows % BatchSize, epoch[^1].Length);
        Assert.Equal(epoch, Epoch(source, seed: 1));
        Assert.NotEqual(epoch.SelectMany(b => b), Epoch(source, seed: 2).SelectMany(b => b));
    }

    [Fact]
    public void Bucketing_CutsThePaddingOfBatchesTrimmedToTheirLongestRow()
    {
        double PaddingShare(bool bucketing)
        {
            var (source, lengths) = Source(bucketing);
            var batches = Epoch(source, seed: 1);
            var padded = batches.Sum(b => (double)b.Length * b.Max(i => lengths[i]));
            return 1 - batches.Sum(b => b.Sum(i => (double)lengths[i])) / padded;
        }

        var uniform = PaddingShare(bucketing: false);
        var bucketed = PaddingShare(bucketing: true);
        Assert.True(uniform > 0.3, $"uniform batches: {uniform:P1} padding");
        Assert.True(bucketed < 0.05, $"bucketed batches: {bucketed:P1} padding (uniform {uniform:P1})");
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ML.DeepExtensions.Training;
using TorchSharp;
using Xunit;

namespace ML.DeepExtensions.Tests.Training;

/// <summary>
/// Issue 15: in-memory data is held as resident tensors and each batch is one native gather. Every batch must hold
/// exactly the rows of the pass's order — features, labels (integer classes and real targets) and example weights —
/// across chunk boundaries, for shuffled and ordered passes.
/// </summary>
public class InMemoryBatchSourceTests
{
    private const int Width = 7;

    /// <summary>Chunks of uneven sizes; row i: features i, i + 0.5, …; label i mod 10; weight 1 + i / 1000.</summary>
    private static (List<ExampleChunk> Chunks, int Rows) Chunks(bool weights)
    {
        var chunks = new List<ExampleChunk>();
        var row = 0;
        foreach (var size in new[] { 5, 1, 64, 33 })
        {
            var features = new float[size * Width];
            var labels = new float[size];
            var w = new float[size];
            for (var i = 0; i < size; i++, row++)
            {
                for (var f = 0; f < Width; f++)
                    features[i * Width + f] = row + f * 0.5f;
                labels[i] = row % 10;
                w[i] = 1 + row / 1000f;
            }
            chunks.Add(new ExampleChunk(features, labels, weights ? w : null, size));
        }
        return (chunks, row);
    }

    [Theory]
    [InlineData(torch.ScalarType.Int64, true, 1, 16)]
    [InlineData(torch.ScalarType.Float32, false, 2, 16)]
    [InlineData(torch.ScalarType.Int64, false, null, 16)]
    // One-row batches: rows are gathered 64 batches at a time, so a pass of 103 rows spans two gathers.
    [InlineData(torch.ScalarType.Float32, true, 3, 1)]
    [InlineData(torch.ScalarType.Int64, false, null, 1)]
    public void EveryBatch_HoldsItsRowsFeaturesLabelsAndWeights(torch.ScalarType labelType, bool weights, int? seed, int batchSize)
    {
        var (chunks, rows) = Chunks(weights);
        using var source = new InMemoryBatchSource(chunks, rows, Width, labelType);
        var seen = new List<int>();
        foreach (var batch in source.Batches(batchSize, seed is { } s ? new Random(s) : null, CancellationToken.None))
        {
            using (batch)
            {
                Assert.Equal(labelType, batch.Labels.dtype);
                var features = batch.Features.data<float>().ToArray();
                var labels = batch.Labels.to_type(torch.ScalarType.Float64).data<double>().ToArray();
                var w = weights ? batch.Extras[Batch.WeightKey].data<float>().ToArray() : null;
                Assert.Equal(weights, batch.Extras.ContainsKey(Batch.WeightKey));
                for (var i = 0; i < batch.Count; i++)
                {
                    var row = (int)features[i * Width];
                    seen.Add(row);
                    Assert.Equal(Enumerable.Range(0, Width).Select(f => row + f * 0.5f), features.Skip(i * Width).Take(Width));
                    Assert.Equal(row % 10, labels[i]);
                    if (w is not null)
                        Assert.Equal(1 + row / 1000f, w[i]);
                }
            }
        }
        Assert.Equal(Enumerable.Range(0, rows), seen.Order());
        if (seed is null)
            Assert.Equal(Enumerable.Range(0, rows), seen);
        else
            Assert.NotEqual(Enumerable.Range(0, rows), seen);
    }

    [Fact]
    public void LengthsForBucketing_AreMeasuredOncePerRowAndShapeTheBatches()
    {
        var (chunks, rows) = Chunks(weights: false);
        var measured = new List<float>();
        static int Length(float first) => 1 + (int)first % 5;
        using var source = new InMemoryBatchSource(chunks, rows, Width, torch.ScalarType.Int64, row =>
        {
            measured.Add(row.Span[0]);
            Assert.Equal(row.Span[0] + 3f, row.Span[6]);
            return Length(row.Span[0]);
        });
        Assert.Equal(Enumerable.Range(0, rows).Select(i => (float)i), measured);
        for (var epoch = 0; epoch < 2; epoch++)
        {
            var batches = source.Batches(8, new Random(3 + epoch), CancellationToken.None).ToList();
            try
            {
                Assert.Equal(rows, batches.Sum(b => b.Count));
                // ~20 rows per length, sorted within the bucket before cutting: a batch spans at most two adjacent lengths.
                foreach (var batch in batches)
                {
                    var lengths = batch.Features.select(1, 0).data<float>().Select(Length).ToArray();
                    Assert.True(lengths.Max() - lengths.Min() <= 1, $"A batch mixes lengths {string.Join(",", lengths)}.");
                }
            }
            finally
            {
                batches.ForEach(b => b.Dispose());
            }
        }
        Assert.Equal(rows, measured.Count);
    }
}

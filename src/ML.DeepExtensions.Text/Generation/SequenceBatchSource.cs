using System;
using System.Collections.Generic;
using System.Threading;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text.Generation;

/// <summary>
/// In-memory batches for next-token training: features are the shifted ids (start position + ids[0..L−2]) as
/// floats, labels the ids as Int64 (see <see cref="NextTokenObjective"/>). Each batch is only as long as its longest
/// text needs (tokens + end of text), not MaxLength: trailing padding is masked anyway, so cutting it changes no
/// result and saves the work (fortunes: about half the positions).
/// </summary>
internal sealed class SequenceBatchSource : BatchSource
{
    private readonly List<int[]> _rows;
    private readonly int _paddingId;
    private readonly bool _bucketing;

    /// <param name="rows">Token ids of each text.</param>
    /// <param name="length">The context length.</param>
    /// <param name="paddingId">The padding id.</param>
    /// <param name="bucketing">Whether shuffled passes group texts of similar length (<see cref="BatchSource.BucketOrder"/>).</param>
    public SequenceBatchSource(List<int[]> rows, int length, int paddingId, bool bucketing) : base(length, ScalarType.Int64)
    {
        _rows = rows;
        _paddingId = paddingId;
        _bucketing = bucketing;
    }

    public override bool InMemory => true;

    public override long? Count => _rows.Count;

    protected override IEnumerable<Batch> Produce(int batchSize, Random? shuffle, CancellationToken cancellation)
    {
        var order = Order(_rows.Count, shuffle, batchSize, _bucketing ? i => TokenRows.Tokens(_rows[i], _paddingId) : null);
        for (var start = 0; start < order.Length; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var count = Math.Min(batchSize, order.Length - start);
            yield return Make(order.AsSpan(start, count));
        }
    }

    private Batch Make(ReadOnlySpan<int> indices)
    {
        var rows = new int[indices.Length][];
        for (var i = 0; i < indices.Length; i++)
            rows[i] = _rows[indices[i]];
        var (features, labels) = TokenRows.Tensors(rows, FeatureSize, _paddingId);
        return new Batch(features, labels);
    }
}

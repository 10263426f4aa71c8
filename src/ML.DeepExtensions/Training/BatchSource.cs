using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// A batch of examples as tensors, owned by whoever enumerates it. <see cref="Features"/> is what the network is fed and
/// <see cref="Labels"/> the main target; <see cref="Extras"/> holds whatever else a task's objective needs per example —
/// sequence lengths, masks, box counts, target lengths — so variable-length and structured targets travel with the batch.
/// </summary>
internal sealed class Batch : IDisposable
{
    private static readonly IReadOnlyDictionary<string, Tensor> NoExtras = new Dictionary<string, Tensor>();

    public Batch(Tensor features, Tensor labels, IReadOnlyDictionary<string, Tensor>? extras = null)
    {
        Features = features;
        Labels = labels;
        Extras = extras ?? NoExtras;
    }

    public Tensor Features { get; }

    public Tensor Labels { get; }

    /// <summary>Further per-example tensors by name (first dimension = examples); empty for most tasks.</summary>
    public IReadOnlyDictionary<string, Tensor> Extras { get; }

    public int Count => (int)Labels.shape[0];

    /// <summary>The name of the extra holding example weights (Float32, one per example), present when the trainer has a weight column.</summary>
    public const string WeightKey = "Weight";

    /// <summary>The same batch on <paramref name="device"/>; the copies belong to the current dispose scope.</summary>
    public Batch To(Device device)
        => new(Features.to(device), Labels.to(device), Extras.Count == 0 ? null : Extras.ToDictionary(e => e.Key, e => e.Value.to(device)));

    public void Dispose()
    {
        Features.Dispose();
        Labels.Dispose();
        foreach (var extra in Extras.Values)
            extra.Dispose();
    }
}

/// <summary>Produces the batches of one epoch; implementations decide where examples live.</summary>
internal abstract class BatchSource : IDisposable
{
    protected BatchSource(int featureSize, ScalarType labelType, Func<ReadOnlyMemory<float>, int>? rowLength = null)
    {
        FeatureSize = featureSize;
        LabelType = labelType;
        RowLength = rowLength;
    }

    public int FeatureSize { get; }

    public ScalarType LabelType { get; }

    /// <summary>Whether the examples are held in memory (exact shuffling).</summary>
    public abstract bool InMemory { get; }

    /// <summary>
    /// A row's length (e.g. its real tokens), or null. When set, shuffled passes group rows of similar length into the
    /// same batches (<see cref="BucketOrder"/>), so batches trimmed to their longest row carry little padding.
    /// </summary>
    public Func<ReadOnlyMemory<float>, int>? RowLength { get; }

    /// <summary>
    /// Batches per length bucket: rows are sorted by length within each run of this many batches of the shuffled order
    /// (torchtext's <c>BucketIterator</c> pools 100 batches too). Larger pools put more rows of one length into a batch, and a
    /// recurrent encoder runs such a batch unpacked: on 3,759 fortunes (batch 32) 50 batches per bucket gave 1.20–1.77× the
    /// unbucketed training tokens/s, 100 gave 1.9–3.4× (benchmark README, issue 15).
    /// </summary>
    public const int BatchesPerBucket = 100;

    /// <summary>
    /// Length bucketing of a shuffled order: within each run of <see cref="BatchesPerBucket"/> batches the rows are sorted
    /// by length (stable) and cut into batches; the full batches are then shuffled and the one short batch, if any, stays
    /// last (so the single-row merge of <see cref="Batches"/> still applies). Every row appears once, in a seeded order.
    /// </summary>
    internal static int[] BucketOrder(int[] shuffled, Func<int, int> length, int batchSize, Random shuffle)
    {
        var bucket = (long)batchSize * BatchesPerBucket;
        var full = new List<int[]>();
        int[]? partial = null;
        for (long start = 0; start < shuffled.Length; start += bucket)
        {
            var rows = shuffled.AsSpan((int)start, (int)Math.Min(bucket, shuffled.Length - start)).ToArray().OrderBy(length).ToArray();
            for (var b = 0; b < rows.Length; b += batchSize)
            {
                var batch = rows[b..Math.Min(rows.Length, b + batchSize)];
                if (batch.Length == batchSize)
                    full.Add(batch);
                else
                    partial = batch;
            }
        }
        var batches = full.ToArray();
        shuffle.Shuffle(batches);
        return batches.SelectMany(b => b).Concat(partial ?? []).ToArray();
    }

    /// <summary>Number of examples when known.</summary>
    public abstract long? Count { get; }

    /// <summary>
    /// The batches of one pass. Streamed batches are read and assembled on a background thread; in-memory batches
    /// are gathered on the training thread, because there a batch costs ~20 µs while the extra thread cost 10–20 %
    /// of epoch time on 2 cores by competing with libtorch's threads (benchmarks/results/latest.md).
    /// </summary>
    /// <param name="batchSize">Examples per batch.</param>
    /// <param name="shuffle">The epoch's shuffle, or null for data order.</param>
    /// <param name="cancellation">Checked between batches.</param>
    /// <param name="noSingleRowBatch">A final batch of one row joins the batch before it (for batch norm, whose statistics
    /// of one value are meaningless); the rows and their order are unchanged.</param>
    public IEnumerable<Batch> Batches(int batchSize, Random? shuffle, CancellationToken cancellation, bool noSingleRowBatch = false)
    {
        var batches = Produce(batchSize, shuffle, cancellation);
        if (noSingleRowBatch)
            batches = MergeFinalSingleRow(batches);
        return InMemory ? batches : Prefetch(batches, cancellation);
    }

    /// <summary>Steps of one pass over <paramref name="rows"/> rows, the merge of <see cref="Batches"/> included.</summary>
    public static int StepsPerPass(long rows, int batchSize, bool noSingleRowBatch)
    {
        var size = Math.Min(batchSize, rows);
        var steps = (int)Math.Ceiling(rows / (double)size);
        return noSingleRowBatch && steps > 1 && rows % batchSize == 1 ? steps - 1 : steps;
    }

    /// <summary>
    /// Passes batches through, holding the last two back so that a final batch of one row can join the one before it.
    /// Batches whose shapes differ beyond the first dimension (sequences trimmed per batch) cannot be joined and pass as they are.
    /// </summary>
    private static IEnumerable<Batch> MergeFinalSingleRow(IEnumerable<Batch> source)
    {
        Batch? previous = null, current = null;
        try
        {
            foreach (var batch in source)
            {
                if (previous is not null)
                {
                    var ready = previous;
                    previous = null;
                    yield return ready;
                }
                previous = current;
                current = batch;
            }
            if (current is { Count: 1 } && previous is not null && Joinable(previous, current))
            {
                var merged = Join(previous, current);
                previous.Dispose();
                current.Dispose();
                (previous, current) = (null, null);
                yield return merged;
            }
            if (previous is not null)
            {
                var ready = previous;
                previous = null;
                yield return ready;
            }
            if (current is not null)
            {
                var ready = current;
                current = null;
                yield return ready;
            }
        }
        finally
        {
            previous?.Dispose();
            current?.Dispose();
        }
    }

    private static bool Joinable(Batch a, Batch b)
        => SameTrailing(a.Features, b.Features) && SameTrailing(a.Labels, b.Labels)
           && a.Extras.Count == b.Extras.Count && a.Extras.All(e => b.Extras.TryGetValue(e.Key, out var other) && SameTrailing(e.Value, other));

    private static bool SameTrailing(Tensor a, Tensor b)
        => a.dtype == b.dtype && a.shape.Length == b.shape.Length && a.shape.Skip(1).SequenceEqual(b.shape.Skip(1));

    private static Batch Join(Batch a, Batch b)
        => new(torch.cat([a.Features, b.Features]), torch.cat([a.Labels, b.Labels]),
            a.Extras.Count == 0 ? null : a.Extras.ToDictionary(e => e.Key, e => torch.cat([e.Value, b.Extras[e.Key]])));

    /// <summary>Releases what the source holds natively (the in-memory source's resident tensors).</summary>
    public virtual void Dispose()
    {
    }

    protected abstract IEnumerable<Batch> Produce(int batchSize, Random? shuffle, CancellationToken cancellation);

    /// <summary>Reads <paramref name="reader"/> into memory when allowed and within budget, else streams it.</summary>
    /// <exception cref="InvalidDataException">No rows, or a bad value (checked up front on the in-memory path).</exception>
    /// <param name="reader">The rows to read.</param>
    /// <param name="labelType">Int64 for class indices, Float32 for real targets.</param>
    /// <param name="loading">In memory, streamed, or chosen by <paramref name="maxBytes"/>.</param>
    /// <param name="maxBytes">The in-memory budget.</param>
    /// <param name="bufferRows">Rows per shuffle buffer when streamed.</param>
    /// <param name="role">The data's role in messages ("training", "validation").</param>
    /// <param name="cancellation">Checked while reading.</param>
    /// <param name="rowLength">A row's length for length bucketing (<see cref="RowLength"/>), or null.</param>
    public static BatchSource Create(ExampleReader reader, ScalarType labelType, DataLoading loading, long maxBytes, int bufferRows, string role, CancellationToken cancellation,
        Func<ReadOnlyMemory<float>, int>? rowLength = null)
    {
        if (loading != DataLoading.Streaming)
        {
            var chunks = new List<ExampleChunk>();
            long bytes = 0;
            var fits = true;
            foreach (var chunk in reader.ReadChunks(4096, cancellation))
            {
                chunks.Add(chunk);
                bytes += (long)chunk.Count * (reader.FeatureSize + 1) * sizeof(float);
                if (bytes > maxBytes)
                {
                    if (loading == DataLoading.InMemory)
                        throw new InvalidOperationException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                            $"The {role} data does not fit in MaxInMemoryBytes: its first {chunks.Sum(c => c.Count):N0} rows already take {bytes:N0} bytes (4 per feature value and label), " +
                            $"and DataLoading is InMemory; expected data within the budget. Raise MaxInMemoryBytes, or set DataLoading to Auto or Streaming. Received: MaxInMemoryBytes={maxBytes}"));
                    fits = false;
                    break;
                }
            }
            if (fits)
            {
                var count = chunks.Sum(c => c.Count);
                if (count == 0)
                    throw Empty(reader, role);
                return new InMemoryBatchSource(chunks, count, reader.FeatureSize, labelType, rowLength);
            }
        }
        var streaming = new StreamingBatchSource(reader, bufferRows, labelType, rowLength);
        if (!reader.ReadChunks(1, cancellation).Any())
            throw Empty(reader, role);
        return streaming;
    }

    /// <summary>Marks (in <see cref="Exception.Data"/>) the error of a data set without rows, so that the fitting pipeline
    /// can name the option that emptied it (<see cref="TrainerOptions.ValidationFraction"/>).</summary>
    public const string NoRowsKey = "ML.DeepExtensions.NoRows";

    /// <summary>The error of a data set without rows, marked with <see cref="NoRowsKey"/>.</summary>
    public static InvalidDataException NoRows(string message)
    {
        var error = new InvalidDataException(message);
        error.Data[NoRowsKey] = true;
        return error;
    }

    private static InvalidDataException Empty(ExampleReader reader, string role)
        => NoRows($"The {role} data has no rows (feature column '{reader.FeatureColumn}', label column '{reader.LabelColumn}'); at least one row is required.");

    protected Batch MakeBatch(float[] features, float[] labels, float[]? weights, int count)
    {
        var x = Runtime.HostCopy.ToTensor<float>(features.AsSpan(0, count * FeatureSize), [count, FeatureSize]);
        var y = LabelTensor(labels.AsSpan(0, count), LabelType);
        return weights is null ? new Batch(x, y) : new Batch(x, y, new Dictionary<string, Tensor> { [Batch.WeightKey] = Runtime.HostCopy.ToTensor<float>(weights.AsSpan(0, count), [count]) });
    }

    /// <summary>Labels as a tensor of <paramref name="type"/>: class indices (Int64) or Float32 targets.</summary>
    protected static Tensor LabelTensor(ReadOnlySpan<float> labels, ScalarType type)
    {
        if (type != ScalarType.Int64)
            return Runtime.HostCopy.ToTensor<float>(labels, [labels.Length]);
        var classes = new long[labels.Length];
        for (var i = 0; i < labels.Length; i++)
            classes[i] = (long)labels[i];
        return Runtime.HostCopy.ToTensor<long>(classes, [classes.Length]);
    }

    /// <summary>Gathers rows <paramref name="order"/>[start..start+count) of row-major chunks into a batch.</summary>
    protected Batch Gather(Func<int, (ExampleChunk Chunk, int Row)> locate, int[] order, int start, int count)
    {
        var features = new float[count * FeatureSize];
        var labels = new float[count];
        float[]? weights = null;
        for (var i = 0; i < count; i++)
        {
            var (chunk, row) = locate(order[start + i]);
            Array.Copy(chunk.Features, row * FeatureSize, features, i * FeatureSize, FeatureSize);
            labels[i] = chunk.Labels[row];
            if (chunk.Weights is { } w)
                (weights ??= new float[count])[i] = w[row];
        }
        return MakeBatch(features, labels, weights, count);
    }

    protected static int[] Order(int count, Random? shuffle)
    {
        var order = Enumerable.Range(0, count).ToArray();
        shuffle?.Shuffle(order);
        return order;
    }

    /// <summary>
    /// The pass's row order: <see cref="Order(int, Random?)"/>, then length-bucketed (<see cref="BucketOrder"/>) when the pass
    /// is shuffled, a row <paramref name="length"/> is given and the rows make more than one batch.
    /// </summary>
    protected static int[] Order(int count, Random? shuffle, int batchSize, Func<int, int>? length)
    {
        var order = Order(count, shuffle);
        return shuffle is not null && length is not null && batchSize < count ? BucketOrder(order, length, batchSize, shuffle) : order;
    }

    private static IEnumerable<Batch> Prefetch(IEnumerable<Batch> source, CancellationToken cancellation)
    {
        using var queue = new BlockingCollection<Batch>(boundedCapacity: 4);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var producer = Task.Run(() =>
        {
            try
            {
                foreach (var batch in source)
                {
                    try
                    {
                        queue.Add(batch, stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        batch.Dispose();
                        throw;
                    }
                }
            }
            finally
            {
                queue.CompleteAdding();
            }
        }, CancellationToken.None);

        try
        {
            foreach (var batch in queue.GetConsumingEnumerable(cancellation))
                yield return batch;
        }
        finally
        {
            stop.Cancel();
            try
            {
                producer.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested && !producer.IsFaulted)
            {
                // Consumer stopped early; nothing to report.
            }
            finally
            {
                while (queue.TryTake(out var left))
                    left.Dispose();
            }
        }
    }
}

/// <summary>
/// Data read once into memory and held as resident tensors (features, labels, example weights): a batch is one native
/// <c>index_select</c> of its rows in the pass's order — no managed copies per step. Rows, order and values are exactly
/// those of a row-by-row gather, so training results do not change.
/// </summary>
internal sealed class InMemoryBatchSource : BatchSource
{
    private readonly int _count;
    private readonly Tensor _features;
    private readonly Tensor _labels;
    private readonly Tensor? _weights;
    private readonly int[]? _lengths;

    public InMemoryBatchSource(List<ExampleChunk> chunks, int count, int featureSize, ScalarType labelType, Func<ReadOnlyMemory<float>, int>? rowLength = null)
        : base(featureSize, labelType, rowLength)
    {
        _count = count;
        _features = torch.empty([count, featureSize], ScalarType.Float32).DetachFromDisposeScope();
        var labels = new float[count];
        float[]? weights = chunks.Any(c => c.Weights is not null) ? new float[count] : null;
        // Lengths for bucketing are measured once, while the rows are still at hand in managed memory.
        _lengths = rowLength is null ? null : new int[count];
        var row = 0;
        foreach (var chunk in chunks)
        {
            // Chunk by chunk through a view: a span over the whole storage would be limited to 2 GB.
            using (var rows = _features.narrow(0, row, chunk.Count))
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(chunk.Features.AsSpan(0, chunk.Count * featureSize)).CopyTo(rows.bytes);
            chunk.Labels.AsSpan(0, chunk.Count).CopyTo(labels.AsSpan(row));
            for (var i = 0; _lengths is not null && i < chunk.Count; i++)
                _lengths[row + i] = rowLength!(chunk.Features.AsMemory(i * featureSize, featureSize));
            if (weights is not null)
            {
                if (chunk.Weights is { } w)
                    w.AsSpan(0, chunk.Count).CopyTo(weights.AsSpan(row));
                else
                    weights.AsSpan(row, chunk.Count).Fill(1);
            }
            row += chunk.Count;
        }
        _labels = LabelTensor(labels, labelType).DetachFromDisposeScope();
        _weights = weights is null ? null : Runtime.HostCopy.ToTensor<float>(weights, [count]).DetachFromDisposeScope();
    }

    public override bool InMemory => true;

    public override long? Count => _count;

    protected override IEnumerable<Batch> Produce(int batchSize, Random? shuffle, CancellationToken cancellation)
    {
        var lengths = _lengths;
        var order = Order(_count, shuffle, batchSize, lengths is null ? null : i => lengths[i]);
        var indices = order.Select(i => (long)i).ToArray();
        // Rows are gathered for a run of consecutive batches at once (one index_select per tensor), and each batch is a view of
        // that copy: a small network's step then pays two views instead of an index tensor and two gathers (~15–25 µs each).
        var rowsPerGather = (int)Math.Min(_count, (long)batchSize * Math.Clamp(GatherBytes / ((long)batchSize * FeatureSize * sizeof(float)), 1, 64));
        for (var gatherStart = 0; gatherStart < _count; gatherStart += rowsPerGather)
        {
            cancellation.ThrowIfCancellationRequested();
            var gathered = Math.Min(rowsPerGather, _count - gatherStart);
            Tensor x, y;
            Tensor? w = null;
            using (var rows = Runtime.HostCopy.ToTensor<long>(indices.AsSpan(gatherStart, gathered), [gathered]))
            {
                x = _features.index_select(0, rows);
                y = _labels.index_select(0, rows);
                w = _weights?.index_select(0, rows);
            }
            using (x)
            using (y)
            using (w)
            {
                for (var start = 0; start < gathered; start += batchSize)
                {
                    var count = Math.Min(batchSize, gathered - start);
                    var features = x.narrow(0, start, count);
                    var labels = y.narrow(0, start, count);
                    yield return w is null ? new Batch(features, labels) : new Batch(features, labels, new Dictionary<string, Tensor> { [Batch.WeightKey] = w.narrow(0, start, count) });
                }
            }
        }
    }

    /// <summary>The most feature bytes gathered at once (<see cref="Produce"/>): a bounded copy, never the whole data set.</summary>
    private const long GatherBytes = 4L << 20;

    /// <inheritdoc />
    public override void Dispose()
    {
        _features.Dispose();
        _labels.Dispose();
        _weights?.Dispose();
    }
}

internal sealed class StreamingBatchSource : BatchSource
{
    private readonly ExampleReader _reader;
    private readonly int _bufferRows;

    public StreamingBatchSource(ExampleReader reader, int bufferRows, ScalarType labelType, Func<ReadOnlyMemory<float>, int>? rowLength)
        : base(reader.FeatureSize, labelType, rowLength)
    {
        _reader = reader;
        _bufferRows = bufferRows;
    }

    public override bool InMemory => false;

    public override long? Count => null;

    protected override IEnumerable<Batch> Produce(int batchSize, Random? shuffle, CancellationToken cancellation)
    {
        // Buffers are a whole number of batches so that only the last batch of the pass can be short.
        var bufferRows = Math.Max(batchSize, _bufferRows / batchSize * batchSize);
        foreach (var chunk in _reader.ReadChunks(bufferRows, cancellation))
        {
            // Each row's length is read once: BucketOrder sorts every row in exactly one bucket.
            var order = Order(chunk.Count, shuffle, batchSize, RowLength is { } rowLength ? i => rowLength(chunk.Features.AsMemory(i * FeatureSize, FeatureSize)) : null);
            for (var start = 0; start < chunk.Count; start += batchSize)
                yield return Gather(i => (chunk, i), order, start, Math.Min(batchSize, chunk.Count - start));
        }
    }
}


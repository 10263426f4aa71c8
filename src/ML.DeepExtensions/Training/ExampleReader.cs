using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Training;

/// <summary>Creates, for a cursor, a function returning the current row's label as a float (a class index for classes).</summary>
internal delegate Func<float> LabelGetterFactory(DataViewRow row);

/// <summary>A block of consecutive examples, features row-major, with their example weights when the trainer has a weight column.</summary>
internal sealed class ExampleChunk(float[] features, float[] labels, float[]? weights, int count)
{
    public ExampleChunk(float[] features, float[] labels, int count)
        : this(features, labels, null, count)
    {
    }

    public float[] Features { get; } = features;
    public float[] Labels { get; } = labels;
    public float[]? Weights { get; } = weights;
    public int Count { get; } = count;
}

/// <summary>
/// Reads feature vectors and labels from an <see cref="IDataView"/> in chunks, checking every value on the
/// way: a NaN or infinite feature or label is reported with its column and row.
/// </summary>
internal sealed class ExampleReader
{
    private readonly IDataView _data;
    private readonly LabelGetterFactory _label;
    private readonly Func<long, bool>? _includeRow;

    /// <param name="data">Source rows.</param>
    /// <param name="featureColumn">Known-size numeric vector column (checked by the caller).</param>
    /// <param name="featureSize">Its length.</param>
    /// <param name="labelColumn">Label column (checked by the caller).</param>
    /// <param name="label">Label conversion.</param>
    /// <param name="includeRow">Row filter by index (train/validation split); null keeps all rows.</param>
    /// <param name="weightColumn">Example-weight column (a Single, checked by the caller), or null: every example weighs 1.</param>
    public ExampleReader(IDataView data, string featureColumn, int featureSize, string labelColumn, LabelGetterFactory label, Func<long, bool>? includeRow = null,
        string? weightColumn = null)
    {
        _data = data;
        WeightColumn = weightColumn;
        FeatureColumn = featureColumn;
        FeatureSize = featureSize;
        LabelColumn = labelColumn;
        _label = label;
        _includeRow = includeRow;
    }

    public string FeatureColumn { get; }

    public string LabelColumn { get; }

    /// <summary>The example-weight column, or null.</summary>
    public string? WeightColumn { get; }

    public int FeatureSize { get; }

    /// <summary>Yields chunks of up to <paramref name="chunkRows"/> examples in data order.</summary>
    public IEnumerable<ExampleChunk> ReadChunks(int chunkRows, CancellationToken cancellation)
    {
        var schema = _data.Schema;
        var featureCol = schema[FeatureColumn];
        var labelCol = schema[LabelColumn];
        var weightCol = WeightColumn is null ? (DataViewSchema.Column?)null : schema[WeightColumn];
        using var cursor = _data.GetRowCursor(weightCol is { } w ? new[] { featureCol, labelCol, w } : new[] { featureCol, labelCol });
        var copyFeatures = FeatureVectors.Create(cursor, featureCol);
        var getLabel = _label(cursor);
        var getWeight = weightCol is { } wc ? cursor.GetGetter<float>(wc) : null;
        var features = new float[chunkRows * FeatureSize];
        var labels = new float[chunkRows];
        var weights = getWeight is null ? null : new float[chunkRows];
        var weight = 1f;
        var count = 0;
        long row = -1;
        while (true)
        {
            bool more;
            try
            {
                more = cursor.MoveNext();
            }
            catch (Exception ex) when (ReadFailures.IsUpstream(ex))
            {
                throw ReadFailure(row + 1, ex);
            }
            if (!more)
                break;
            row++;
            if (_includeRow is not null && !_includeRow(row))
                continue;
            if ((row & 1023) == 0)
                cancellation.ThrowIfCancellationRequested();
            var target = features.AsSpan(count * FeatureSize, FeatureSize);
            float label;
            try
            {
                copyFeatures(target);
                label = getLabel();
                getWeight?.Invoke(ref weight);
            }
            catch (InvalidLabelException ex)
            {
                throw new InvalidDataException($"Label column '{LabelColumn}' holds {ex.Value} at row {row}, {ex.Expected}", ex);
            }
            catch (Exception ex) when (ReadFailures.IsUpstream(ex))
            {
                throw ReadFailure(row, ex);
            }
            var bad = IndexOfNonFinite(target);
            if (bad >= 0)
                throw new InvalidDataException(
                    $"Feature column '{FeatureColumn}' holds {target[bad]} at row {row}, slot {bad}; expected finite numbers. " +
                    "Replace or drop missing values first (e.g. mlContext.Transforms.ReplaceMissingValues).");
            if (!float.IsFinite(label))
                throw new InvalidDataException($"Label column '{LabelColumn}' holds {label} at row {row}; expected a finite value.");
            if (weights is not null)
            {
                if (!(float.IsFinite(weight) && weight >= 0))
                    throw new InvalidDataException($"Example-weight column '{WeightColumn}' holds {weight} at row {row}; expected a finite weight ≥ 0.");
                weights[count] = weight;
            }
            labels[count] = label;
            if (++count == chunkRows)
            {
                yield return new ExampleChunk(features, labels, weights, count);
                features = new float[chunkRows * FeatureSize];
                labels = new float[chunkRows];
                weights = weights is null ? null : new float[chunkRows];
                count = 0;
            }
        }
        if (count > 0)
            yield return new ExampleChunk(features, labels, weights, count);
    }

    /// <summary>An upstream read failure naming the failing row and its text columns (see <see cref="ReadFailures"/>).</summary>
    private InvalidDataException ReadFailure(long rowHint, Exception ex)
    {
        var schema = _data.Schema;
        var columns = WeightColumn is null ? [schema[FeatureColumn], schema[LabelColumn]] : new[] { schema[FeatureColumn], schema[LabelColumn], schema[WeightColumn] };
        return ReadFailures.Describe(_data, columns, cursor =>
        {
            var copy = FeatureVectors.Create(cursor, schema[FeatureColumn]);
            var label = _label(cursor);
            var weight = WeightColumn is null ? null : cursor.GetGetter<float>(schema[WeightColumn]);
            var buffer = new float[FeatureSize];
            var value = 0f;
            return () =>
            {
                copy(buffer);
                label();
                weight?.Invoke(ref value);
            };
        }, $"feature column '{FeatureColumn}'", rowHint, ex);
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
                return i;
        }
        return -1;
    }

    /// <summary>Deterministic by-row split: row <paramref name="row"/> goes to validation with probability <paramref name="fraction"/>.</summary>
    public static bool IsValidationRow(long row, int seed, double fraction)
    {
        // SplitMix64 of (seed, row): independent of data order within a row index, stable across runs.
        var z = unchecked((ulong)row + 0x9E3779B97F4A7C15UL * (ulong)(uint)seed + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53)) < fraction;
    }
}

/// <summary>
/// Thrown by a label getter for a value the task cannot learn from; the reader adds the column and the row. Only on the
/// error path: a valid label costs nothing more.
/// </summary>
/// <param name="value">The value as the user knows it (e.g. "key 0 (the missing value)").</param>
/// <param name="expected">What was wrong and expected, and how to fix it, continuing "holds … at row r, ".</param>
internal sealed class InvalidLabelException(string value, string expected) : Exception($"{value}: {expected}")
{
    public string Value { get; } = value;

    public string Expected { get; } = expected;
}

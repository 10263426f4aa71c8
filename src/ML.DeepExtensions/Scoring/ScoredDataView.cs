using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// The output of <see cref="NeuralNetworkTransformer.Transform"/>: the input's columns plus prediction
/// columns computed a batch at a time. A second cursor over the feature column reads ahead by one batch; the
/// main cursor serves rows from the scored batch. Both must traverse the same rows in the same order — an
/// <see cref="IDataView"/> promises that, but a custom one may not keep the promise (a different order on every
/// cursor). Each row's id (<see cref="DataViewRow.GetIdGetter"/>, which ML.NET defines to follow the row) is compared
/// on both cursors, and the features of the first and last row of every batch are read again through the main cursor
/// and compared bit for bit; a mismatch throws rather than putting scores on the wrong rows.
/// </summary>
internal sealed class ScoredDataView : IDataView
{
    private readonly NeuralNetworkTransformer _parent;
    private readonly IDataView _source;

    public ScoredDataView(NeuralNetworkTransformer parent, IDataView source)
    {
        _parent = parent;
        _source = source;
        Schema = parent.Head.OutputSchema(source.Schema);
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var inputCount = _source.Schema.Count;
        var needed = columnsNeeded.ToArray();
        var scoring = needed.Any(c => c.Index >= inputCount);
        var sourceColumns = needed.Where(c => c.Index < inputCount).Select(c => _source.Schema[c.Index]);
        if (scoring)
            sourceColumns = sourceColumns.Append(_source.Schema[_parent.FeatureColumnName]).Distinct();
        var cursor = _source.GetRowCursor(sourceColumns.ToArray());
        DataViewRowCursor? lookahead = scoring ? _source.GetRowCursor(new[] { _source.Schema[_parent.FeatureColumnName] }) : null;
        return new Cursor(this, cursor, lookahead, needed.Select(c => c.Index).ToHashSet());
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ScoredDataView _view;
        private readonly DataViewRowCursor _input;
        private readonly DataViewRowCursor? _lookahead;
        private bool _readFailed;
        private readonly FeatureCopier? _copyFeatures;
        private readonly HashSet<int> _active;
        private readonly float[] _features;
        private readonly FeatureCopier? _inputFeatures;
        private readonly float[] _checked;
        private readonly ValueGetter<DataViewRowId>? _lookaheadId;
        private readonly ValueGetter<DataViewRowId>? _inputId;
        private readonly DataViewRowId[] _ids;
        private ScoredBatch? _batch;
        private int _row = -1;
        private long _batchStart;

        public Cursor(ScoredDataView view, DataViewRowCursor input, DataViewRowCursor? lookahead, HashSet<int> active)
        {
            _view = view;
            _input = input;
            _lookahead = lookahead;
            _active = active;
            var parent = view._parent;
            _features = lookahead is null ? [] : new float[parent.ScoringBatchSize * parent.FeatureSize];
            _copyFeatures = lookahead is null ? null : FeatureVectors.Create(lookahead, lookahead.Schema[parent.FeatureColumnName]);
            _inputFeatures = lookahead is null ? null : FeatureVectors.Create(input, input.Schema[parent.FeatureColumnName]);
            _checked = lookahead is null ? [] : new float[parent.FeatureSize];
            (_lookaheadId, _inputId) = lookahead is null ? (null, null) : (IdGetter(lookahead), IdGetter(input));
            if (_lookaheadId is null || _inputId is null)
                (_lookaheadId, _inputId) = (null, null);
            _ids = _lookaheadId is null ? [] : new DataViewRowId[parent.ScoringBatchSize];
        }

        /// <summary>The row-id getter, or null for a custom cursor that does not implement ids.</summary>
        private static ValueGetter<DataViewRowId>? IdGetter(DataViewRowCursor cursor)
        {
            try
            {
                return cursor.GetIdGetter();
            }
            catch (Exception ex) when (ex is NotImplementedException or NotSupportedException or InvalidOperationException)
            {
                return null;
            }
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool MoveNext()
        {
            if (!_input.MoveNext())
                return false;
            if (_lookahead is not null)
            {
                if (_batch is null || ++_row >= _batch.Rows)
                    ScoreNextBatch();
                CheckSameRow();
            }
            return true;
        }

        /// <summary>The main cursor's row is the one scored at <see cref="_row"/>: same id on every row, same features on the batch's first and last rows.</summary>
        private void CheckSameRow()
        {
            if (_inputId is not null)
            {
                var id = default(DataViewRowId);
                _inputId(ref id);
                if (!id.Equals(_ids[_row]))
                    throw NotRepeatable($"row id {id} on the main cursor, {_ids[_row]} on the scoring cursor");
            }
            if (_row == 0 || _row == _batch!.Rows - 1)
            {
                _inputFeatures!(_checked);
                var size = _checked.Length;
                var scored = _features.AsSpan(_row * size, size);
                if (!MemoryMarshal.AsBytes(scored).SequenceEqual(MemoryMarshal.AsBytes(_checked.AsSpan())))
                    throw NotRepeatable("different feature values on the two cursors");
            }
        }

        private InvalidOperationException NotRepeatable(string difference)
            => new($"The input data is not repeatable: scoring reads the feature column '{_view._parent.FeatureColumnName}' through a second cursor, a batch ahead, " +
                   $"and at row {_batchStart + _row} the two cursors returned different rows ({difference}). Scores would land on the wrong rows. " +
                   "Expected an IDataView that returns the same rows in the same order on every cursor (as ML.NET's own do); " +
                   "materialise it first (e.g. mlContext.Data.Cache) or make its cursors deterministic.");

        private void ScoreNextBatch()
        {
            var parent = _view._parent;
            var size = parent.FeatureSize;
            var rows = 0;
            var batchStart = _batch is null ? 0 : _batchStart + _batch.Rows;
            try
            {
                while (rows < parent.ScoringBatchSize && _lookahead!.MoveNext())
                {
                    _copyFeatures!(_features.AsSpan(rows * size, size));
                    _lookaheadId?.Invoke(ref _ids[rows]);
                    rows++;
                }
            }
            catch (Exception ex) when (ReadFailures.IsUpstream(ex) && ex is not InvalidOperationException { Source: "ML.DeepExtensions" })
            {
                _readFailed = true;
                throw DescribeReadFailure(batchStart + rows, ex);
            }
            if (rows == 0)
            {
                // ML.NET's parallel cursors end early when a worker fails and rethrow its failure only when disposed.
                try
                {
                    _lookahead!.Dispose();
                }
                catch (Exception ex) when (ReadFailures.IsUpstream(ex))
                {
                    _readFailed = true;
                    throw DescribeReadFailure(batchStart, ex);
                }
                throw new InvalidOperationException("The input data is not repeatable: it returned fewer rows to the scoring cursor than to the main cursor; expected the same rows on every cursor.");
            }
            _batchStart = _batch is null ? 0 : _batchStart + _batch.Rows;
            _batch = parent.Score(_features, rows);
            _row = 0;
        }

        /// <summary>An upstream failure (e.g. an image file that cannot be decoded) naming the row and its file, as training does.</summary>
        private InvalidDataException DescribeReadFailure(long rowHint, Exception ex)
        {
            var source = _view._source;
            var column = source.Schema[_view._parent.FeatureColumnName];
            var size = _view._parent.FeatureSize;
            return ReadFailures.Describe(source, [column], cursor =>
            {
                var copy = FeatureVectors.Create(cursor, column);
                var buffer = new float[size];
                return () => copy(buffer);
            }, $"feature column '{column.Name}' while scoring", rowHint, ex);
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var inputCount = _view._source.Schema.Count;
            if (column.Index < inputCount)
                return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            var getter = _view._parent.Head.MakeGetter(column.Name, () => _batch!, () => _row);
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' has type {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        protected override void Dispose(bool disposing)
        {
            if (!disposing)
            {
                base.Dispose(disposing);
                return;
            }
            // ML.NET's parallel cursors end early when a worker fails (an image file that cannot be decoded …) and rethrow
            // the failure only when disposed: report it once, with its row and file, as training does.
            Exception? failure = null;
            foreach (var cursor in new[] { _input, _lookahead })
            {
                try
                {
                    cursor?.Dispose();
                }
                catch (Exception ex) when (ReadFailures.IsUpstream(ex))
                {
                    failure ??= ex;
                }
            }
            base.Dispose(disposing);
            if (failure is not null && !_readFailed)
            {
                _readFailed = true;
                throw DescribeReadFailure(_batchStart + _row, failure);
            }
        }
    }
}

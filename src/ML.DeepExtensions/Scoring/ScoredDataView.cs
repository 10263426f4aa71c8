using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// The output of <see cref="NeuralNetworkTransformer.Transform"/>: the input's columns plus prediction
/// columns computed a batch at a time. A second cursor over the feature column reads ahead by one batch; the
/// main cursor serves rows from the scored batch. Both traverse the same rows in the same order.
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
        var sourceColumns = needed.Where(c => c.Index < inputCount).Select(c => _source.Schema[c.Index]).ToArray();
        var cursor = _source.GetRowCursor(sourceColumns);
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
        private readonly FeatureCopier? _copyFeatures;
        private readonly HashSet<int> _active;
        private readonly float[] _features;
        private ScoredBatch? _batch;
        private int _row = -1;

        public Cursor(ScoredDataView view, DataViewRowCursor input, DataViewRowCursor? lookahead, HashSet<int> active)
        {
            _view = view;
            _input = input;
            _lookahead = lookahead;
            _active = active;
            var parent = view._parent;
            _features = lookahead is null ? [] : new float[parent.ScoringBatchSize * parent.FeatureSize];
            _copyFeatures = lookahead is null ? null : FeatureVectors.Create(lookahead, lookahead.Schema[parent.FeatureColumnName]);
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
            if (_lookahead is not null && (_batch is null || ++_row >= _batch.Rows))
                ScoreNextBatch();
            return true;
        }

        private void ScoreNextBatch()
        {
            var parent = _view._parent;
            var size = parent.FeatureSize;
            var rows = 0;
            while (rows < parent.ScoringBatchSize && _lookahead!.MoveNext())
            {
                _copyFeatures!(_features.AsSpan(rows * size, size));
                rows++;
            }
            if (rows == 0)
                throw new InvalidOperationException("The input data returned fewer rows to the scoring cursor than to the main cursor; it must be deterministic.");
            _batch = parent.Score(_features, rows);
            _row = 0;
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
            if (disposing)
            {
                _input.Dispose();
                _lookahead?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

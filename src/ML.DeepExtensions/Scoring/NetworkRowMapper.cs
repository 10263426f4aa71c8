using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Scoring;

/// <summary>Row-at-a-time scoring for <c>PredictionEngine</c>: one forward pass per input row, cached by position.</summary>
internal sealed class NetworkRowMapper : IRowToRowMapper
{
    private readonly NeuralNetworkTransformer _parent;

    public NetworkRowMapper(NeuralNetworkTransformer parent, DataViewSchema inputSchema)
    {
        _parent = parent;
        InputSchema = inputSchema;
        OutputSchema = parent.Head.OutputSchema(inputSchema);
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
        => dependingColumns.Any(c => c.Index >= InputSchema.Count)
            ? [InputSchema[_parent.FeatureColumnName]]
            : [];

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
        => new Row(this, input, activeColumns.Select(c => c.Index).ToHashSet());

    private sealed class Row : DataViewRow
    {
        private readonly NetworkRowMapper _mapper;
        private readonly DataViewRow _input;
        private readonly HashSet<int> _active;
        private readonly float[] _features;
        private FeatureCopier? _copyFeatures;
        private ScoredBatch? _scored;
        private long _scoredPosition = -1;

        public Row(NetworkRowMapper mapper, DataViewRow input, HashSet<int> active)
        {
            _mapper = mapper;
            _input = input;
            _active = active;
            _features = new float[mapper._parent.FeatureSize];
        }

        public override DataViewSchema Schema => _mapper.OutputSchema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < _mapper.InputSchema.Count)
                return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            var getter = _mapper._parent.Head.MakeGetter(column.Name, Current, () => 0);
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' has type {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        private ScoredBatch Current()
        {
            if (_scored is null || _scoredPosition != _input.Position || _input.Position < 0)
            {
                _copyFeatures ??= FeatureVectors.Create(_input, _input.Schema[_mapper._parent.FeatureColumnName]);
                _copyFeatures(_features);
                _scored = _mapper._parent.Score(_features, 1);
                _scoredPosition = _input.Position;
            }
            return _scored;
        }
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// The output of <see cref="NeuralNetworkTransformer.Transform"/>: the input's columns plus prediction columns computed
/// a batch at a time. One cursor over the input reads a batch of rows ahead — the feature vectors into the scoring
/// buffer, every other requested input column into per-row slots (<see cref="RowSlots"/>) — and rows are then served
/// from that batch. Every upstream value is computed once, and scores can only land on the rows they were computed
/// from, whatever order the input's cursors return (a custom <see cref="IDataView"/> may shuffle on every cursor).
/// </summary>
/// <remarks>It is an ML.NET data transform that can save itself as ONNX (internal interfaces, see
/// <see cref="Interop.OnnxPipelineExport"/>), so <c>mlContext.Model.ConvertToOnnx</c> exports the network with the rest of
/// the pipeline, or throws naming this step — never a graph that silently leaves the network out.</remarks>
internal sealed class ScoredDataView : IDataView, Microsoft.ML.Model.OnnxConverter.ITransformCanSaveOnnx
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

    /// <summary>The scored input (ML.NET's exporter walks back through it).</summary>
    public IDataView Source => _source;

    /// <summary>Always true: <see cref="SaveAsOnnx"/> either exports the network or throws a message naming this step.</summary>
    public bool CanSaveOnnx(Microsoft.ML.Model.OnnxConverter.OnnxContext ctx) => true;

    public void SaveAsOnnx(Microsoft.ML.Model.OnnxConverter.OnnxContext ctx) => Interop.OnnxPipelineExport.Save(_parent, ctx);

    void ICanSaveModel.Save(ModelSaveContext ctx)
        => throw new NotSupportedException("The scored data view is not saved on its own: save the fitted transformer with mlContext.Model.Save.");

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var inputCount = _source.Schema.Count;
        var needed = columnsNeeded.ToArray();
        var inputColumns = needed.Where(c => c.Index < inputCount).Select(c => _source.Schema[c.Index]).ToArray();
        if (needed.All(c => c.Index < inputCount))
            return new InputCursor(this, _source.GetRowCursor(inputColumns));
        var features = _source.Schema[_parent.FeatureColumnName];
        return new BatchCursor(this, _source.GetRowCursor(inputColumns.Append(features).Distinct()), inputColumns, needed.Select(c => c.Index).ToHashSet());
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    /// <summary>No prediction column requested: the input's own cursor under this view's schema.</summary>
    private sealed class InputCursor(ScoredDataView view, DataViewRowCursor input) : DataViewRowCursor
    {
        public override DataViewSchema Schema => view.Schema;

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override bool IsColumnActive(DataViewSchema.Column column)
            => column.Index < input.Schema.Count && input.IsColumnActive(input.Schema[column.Index]);

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool MoveNext() => input.MoveNext();

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
            => column.Index < input.Schema.Count
                ? input.GetGetter<TValue>(input.Schema[column.Index])
                : throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                input.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>Reads a batch of rows from the one input cursor, scores it, and serves its rows.</summary>
    private sealed class BatchCursor : DataViewRowCursor
    {
        private readonly ScoredDataView _view;
        private readonly DataViewRowCursor _input;
        private readonly HashSet<int> _active;
        private readonly FeatureCopier _copyFeatures;
        private readonly float[] _features;
        private readonly Dictionary<int, RowSlots> _slots;
        private readonly ValueGetter<DataViewRowId>? _inputId;
        private readonly DataViewRowId[] _ids;
        private ScoredBatch? _batch;
        private int _row = -1;
        private long _batchStart;
        private bool _inputEnded;
        private bool _inputDisposed;
        private bool _readFailed;

        public BatchCursor(ScoredDataView view, DataViewRowCursor input, IEnumerable<DataViewSchema.Column> inputColumns, HashSet<int> active)
        {
            _view = view;
            _input = input;
            _active = active;
            var parent = view._parent;
            _features = new float[parent.ScoringBatchSize * parent.FeatureSize];
            _copyFeatures = FeatureVectors.Create(input, input.Schema[parent.FeatureColumnName]);
            _slots = inputColumns.ToDictionary(c => c.Index, c => RowSlots.Create(input, input.Schema[c.Index], parent.ScoringBatchSize));
            _inputId = IdGetter(input);
            _ids = _inputId is null ? [] : new DataViewRowId[parent.ScoringBatchSize];
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

        public override long Position => _batchStart + _row;

        public override long Batch => 0;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<DataViewRowId> GetIdGetter()
        {
            if (_inputId is null)
                throw new NotSupportedException("The input data's cursor provides no row ids.");
            return (ref DataViewRowId id) => id = _ids[_row];
        }

        public override bool MoveNext()
        {
            if (_batch is not null && _row + 1 < _batch.Rows)
            {
                _row++;
                return true;
            }
            return !_inputEnded && ScoreNextBatch();
        }

        /// <summary>Reads up to a batch of rows from the input, scores them, and moves to the first; false at the end of the data.</summary>
        private bool ScoreNextBatch()
        {
            var parent = _view._parent;
            var size = parent.FeatureSize;
            var batchStart = _batch is null ? 0 : _batchStart + _batch.Rows;
            var rows = 0;
            try
            {
                while (rows < parent.ScoringBatchSize && _input.MoveNext())
                {
                    _copyFeatures(_features.AsSpan(rows * size, size));
                    foreach (var slots in _slots.Values)
                        slots.Read(rows);
                    _inputId?.Invoke(ref _ids[rows]);
                    rows++;
                }
                if (rows < parent.ScoringBatchSize)
                {
                    // ML.NET's parallel cursors end early when a worker fails and rethrow its failure only when disposed.
                    _inputEnded = true;
                    _inputDisposed = true;
                    _input.Dispose();
                }
            }
            catch (Exception ex) when (ReadFailures.IsUpstream(ex) && ex is not InvalidOperationException { Source: "ML.DeepExtensions" })
            {
                _readFailed = true;
                throw DescribeReadFailure(batchStart + rows, ex);
            }
            if (rows == 0)
                return false;
            _batchStart = batchStart;
            _batch = parent.Score(_features, rows);
            _row = 0;
            return true;
        }

        /// <summary>An upstream failure (e.g. an image file that cannot be decoded) naming the row and its file, as training does.</summary>
        private InvalidDataException DescribeReadFailure(long rowHint, Exception ex)
        {
            var source = _view._source;
            var features = source.Schema[_view._parent.FeatureColumnName];
            var columns = _slots.Keys.Select(i => source.Schema[i]).Append(features).Distinct().ToArray();
            var size = _view._parent.FeatureSize;
            return ReadFailures.Describe(source, columns, cursor =>
            {
                var copy = FeatureVectors.Create(cursor, features);
                var buffer = new float[size];
                var slots = columns.Where(c => c.Index != features.Index).Select(c => RowSlots.Create(cursor, c, 1)).ToArray();
                return () =>
                {
                    copy(buffer);
                    foreach (var slot in slots)
                        slot.Read(0);
                };
            }, $"feature column '{features.Name}' while scoring", rowHint, ex);
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            var getter = column.Index < _view._source.Schema.Count
                ? _slots[column.Index].Getter(() => _row)
                : _view._parent.Head.MakeGetter(column.Name, () => _batch!, () => _row);
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' has type {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        protected override void Dispose(bool disposing)
        {
            if (!disposing || _inputDisposed)
            {
                base.Dispose(disposing);
                return;
            }
            _inputDisposed = true;
            // ML.NET's parallel cursors end early when a worker fails (an image file that cannot be decoded …) and rethrow
            // the failure only when disposed: report it once, with its row and file, as training does.
            try
            {
                _input.Dispose();
            }
            catch (Exception ex) when (ReadFailures.IsUpstream(ex) && !_readFailed)
            {
                _readFailed = true;
                throw DescribeReadFailure(Position, ex);
            }
            catch (Exception ex) when (ReadFailures.IsUpstream(ex))
            {
            }
            finally
            {
                base.Dispose(disposing);
            }
        }
    }
}

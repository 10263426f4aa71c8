using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// Computes output columns a batch of rows at a time for a <see cref="BatchedDataView"/>: what a transformer that scores
/// batches — a network, a language model generating for many prompts — tells the view.
/// </summary>
internal interface IBatchScorer
{
    /// <summary>Rows read ahead and scored together.</summary>
    int BatchSize { get; }

    /// <summary>The input columns read to score a row.</summary>
    IReadOnlyList<string> ScoredColumns { get; }

    /// <summary>How a read failure names those columns, e.g. "feature column 'Features'".</summary>
    string ScoredColumnsDescription { get; }

    /// <summary>The input's columns followed by the output columns.</summary>
    DataViewSchema OutputSchema(DataViewSchema input);

    /// <summary>A reader of <paramref name="input"/>'s current row into batch slots, and of the batch's outputs.</summary>
    IBatchReader CreateReader(DataViewRow input);

    /// <summary>The step for <c>mlContext.Model.ConvertToOnnx</c>, or null when this scorer cannot be exported.</summary>
    Action<Microsoft.ML.Model.OnnxConverter.OnnxContext>? SaveAsOnnx { get; }
}

/// <summary>One cursor's batch buffers of an <see cref="IBatchScorer"/>.</summary>
internal interface IBatchReader
{
    /// <summary>Copies the input's current row into slot <paramref name="slot"/> of the batch.</summary>
    void Read(int slot);

    /// <summary>Computes the outputs of slots 0 … <paramref name="rows"/> − 1.</summary>
    void Score(int rows);

    /// <summary>A getter of output column <paramref name="column"/> (by name) at the slot <paramref name="row"/> returns.</summary>
    Delegate Getter(string column, Func<int> row);
}

/// <summary>
/// The output of a transformer that scores rows a batch at a time (<see cref="IBatchScorer"/>): the input's columns plus
/// the output columns. One cursor over the input reads a batch of rows ahead — the scored columns into the scorer's
/// buffers, every other requested input column into per-row slots (<see cref="RowSlots"/>) — and rows are then served
/// from that batch. Every upstream value is computed once, and outputs can only land on the rows they were computed
/// from, whatever order the input's cursors return (a custom <see cref="IDataView"/> may shuffle on every cursor).
/// </summary>
/// <remarks>It is an ML.NET data transform that can save itself as ONNX when its scorer can (internal interfaces, see
/// <see cref="Interop.OnnxPipelineExport"/>), so <c>mlContext.Model.ConvertToOnnx</c> exports a network with the rest of
/// the pipeline, or throws naming this step — never a graph that silently leaves the network out.</remarks>
internal sealed class BatchedDataView : IDataView, Microsoft.ML.Model.OnnxConverter.ITransformCanSaveOnnx
{
    private readonly IBatchScorer _scorer;
    private readonly IDataView _source;

    public BatchedDataView(IBatchScorer scorer, IDataView source)
    {
        _scorer = scorer;
        _source = source;
        Schema = scorer.OutputSchema(source.Schema);
    }

    public bool CanShuffle => false;

    /// <summary>The scored input (ML.NET's exporter walks back through it).</summary>
    public IDataView Source => _source;

    /// <summary>Whether the scorer can be exported; when it can, <see cref="SaveAsOnnx"/> either exports it or throws a message naming this step.</summary>
    public bool CanSaveOnnx(Microsoft.ML.Model.OnnxConverter.OnnxContext ctx) => _scorer.SaveAsOnnx is not null;

    public void SaveAsOnnx(Microsoft.ML.Model.OnnxConverter.OnnxContext ctx)
        => (_scorer.SaveAsOnnx ?? throw new NotSupportedException("This step cannot be exported to ONNX."))(ctx);

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
        var scored = _scorer.ScoredColumns.Select(name => _source.Schema[name]);
        return new BatchCursor(this, _source.GetRowCursor(inputColumns.Concat(scored).Distinct()), inputColumns, needed.Select(c => c.Index).ToHashSet());
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    /// <summary>No prediction column requested: the input's own cursor under this view's schema.</summary>
    private sealed class InputCursor(BatchedDataView view, DataViewRowCursor input) : DataViewRowCursor
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
        private readonly BatchedDataView _view;
        private readonly DataViewRowCursor _input;
        private readonly HashSet<int> _active;
        private readonly IBatchReader _reader;
        private readonly int _batchSize;
        private readonly Dictionary<int, RowSlots> _slots;
        private readonly ValueGetter<DataViewRowId>? _inputId;
        private readonly DataViewRowId[] _ids;
        private int _rows;
        private int _row = -1;
        private long _batchStart;
        private bool _inputEnded;
        private bool _inputDisposed;
        private bool _readFailed;

        public BatchCursor(BatchedDataView view, DataViewRowCursor input, IEnumerable<DataViewSchema.Column> inputColumns, HashSet<int> active)
        {
            _view = view;
            _input = input;
            _active = active;
            _batchSize = view._scorer.BatchSize;
            _reader = view._scorer.CreateReader(input);
            _slots = inputColumns.ToDictionary(c => c.Index, c => RowSlots.Create(input, input.Schema[c.Index], _batchSize));
            _inputId = IdGetter(input);
            _ids = _inputId is null ? [] : new DataViewRowId[_batchSize];
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
            if (_row + 1 < _rows)
            {
                _row++;
                return true;
            }
            return !_inputEnded && ScoreNextBatch();
        }

        /// <summary>Reads up to a batch of rows from the input, scores them, and moves to the first; false at the end of the data.</summary>
        private bool ScoreNextBatch()
        {
            var batchStart = _batchStart + _rows;
            var rows = 0;
            try
            {
                while (rows < _batchSize && _input.MoveNext())
                {
                    _reader.Read(rows);
                    foreach (var slots in _slots.Values)
                        slots.Read(rows);
                    _inputId?.Invoke(ref _ids[rows]);
                    rows++;
                }
                if (rows < _batchSize)
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
            _rows = 0;
            _reader.Score(rows);
            _rows = rows;
            _row = 0;
            return true;
        }

        /// <summary>An upstream failure (e.g. an image file that cannot be decoded) naming the row and its file, as training does.</summary>
        private InvalidDataException DescribeReadFailure(long rowHint, Exception ex)
        {
            var source = _view._source;
            var scorer = _view._scorer;
            var scored = scorer.ScoredColumns.Select(name => source.Schema[name]).ToArray();
            var columns = _slots.Keys.Select(i => source.Schema[i]).Concat(scored).Distinct().ToArray();
            return ReadFailures.Describe(source, columns, cursor =>
            {
                var reader = scorer.CreateReader(cursor);
                var slots = columns.Where(c => !scored.Contains(c)).Select(c => RowSlots.Create(cursor, c, 1)).ToArray();
                return () =>
                {
                    reader.Read(0);
                    foreach (var slot in slots)
                        slot.Read(0);
                };
            }, $"{scorer.ScoredColumnsDescription} while scoring", rowHint, ex);
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            var getter = column.Index < _view._source.Schema.Count
                ? _slots[column.Index].Getter(() => _row)
                : _reader.Getter(column.Name, () => _row);
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

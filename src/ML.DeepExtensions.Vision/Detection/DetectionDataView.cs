using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>
/// The output of <see cref="ObjectDetectorTransformer.Transform"/>: the input columns plus the detection columns, scored
/// <see cref="ObjectDetectorTransformer.ScoringBatchSize"/> rows per forward pass. The cursor reads a batch of rows ahead
/// from one input cursor — each image letterboxed as it is read, every other requested column into <see cref="RowSlots"/>
/// — detects on the batch, and serves its rows; without a detection column requested, it only passes rows through.
/// </summary>
internal sealed class DetectionDataView : IDataView
{
    private readonly ObjectDetectorTransformer _parent;
    private readonly IDataView _source;

    public DetectionDataView(ObjectDetectorTransformer parent, IDataView source)
    {
        _parent = parent;
        _source = source;
        Schema = parent.GetOutputSchema(source.Schema);
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        var inputCount = _source.Schema.Count;
        var scoring = needed.Any(i => i >= inputCount);
        var inputColumns = needed.Where(i => i < inputCount).Select(i => _source.Schema[i]).ToList();
        var image = _source.Schema[_parent.ImageColumnName];
        var requested = scoring ? inputColumns.Append(image).Distinct() : inputColumns;
        return new BatchCursor(this, _source.GetRowCursor(requested), inputColumns, needed, scoring);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    private sealed class BatchCursor : DataViewRowCursor
    {
        private readonly DetectionDataView _view;
        private readonly DataViewRowCursor _input;
        private readonly HashSet<int> _active;
        private readonly Dictionary<int, RowSlots> _slots;
        private readonly ValueGetter<MLImage>? _image;
        private readonly PreparedImage?[] _prepared;
        private readonly ValueGetter<DataViewRowId> _inputId;
        private readonly DataViewRowId[] _ids;
        private DetectedObject[][] _detections = [];
        private int _rows;
        private int _row = -1;
        private long _batchStart;
        private bool _ended;

        public BatchCursor(DetectionDataView view, DataViewRowCursor input, IEnumerable<DataViewSchema.Column> inputColumns, HashSet<int> active, bool scoring)
        {
            _view = view;
            _input = input;
            _active = active;
            var batch = view._parent.ScoringBatchSize;
            _slots = inputColumns.ToDictionary(c => c.Index, c => RowSlots.Create(input, input.Schema[c.Index], batch));
            _image = scoring ? input.GetGetter<MLImage>(input.Schema[view._parent.ImageColumnName]) : null;
            _prepared = new PreparedImage?[scoring ? batch : 0];
            _inputId = input.GetIdGetter();
            _ids = new DataViewRowId[batch];
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _batchStart + _row;

        public override long Batch => 0;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = _ids[_row];

        public override bool MoveNext()
        {
            if (_row + 1 < _rows)
            {
                _row++;
                return true;
            }
            if (_ended)
                return false;
            _batchStart += _rows;
            var parent = _view._parent;
            var rows = 0;
            MLImage image = null!;
            while (rows < parent.ScoringBatchSize && _input.MoveNext())
            {
                foreach (var slots in _slots.Values)
                    slots.Read(rows);
                _inputId(ref _ids[rows]);
                if (_image is not null)
                {
                    _image(ref image);
                    _prepared[rows] = parent.Prepare(image);
                }
                rows++;
            }
            _ended = rows < parent.ScoringBatchSize;
            _rows = rows;
            _row = 0;
            if (rows == 0)
                return false;
            if (_image is not null)
                _detections = parent.Detect(_prepared.AsSpan(0, rows).ToArray());
            return true;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was created.");
            var inputCount = _view._source.Schema.Count;
            Delegate getter = column.Index < inputCount
                ? _slots[column.Index].Getter(() => _row)
                : (column.Index - inputCount) switch
                {
                    0 => (ValueGetter<VBuffer<uint>>)((ref VBuffer<uint> value) => Fill(ref value, _detections[_row], 1, (d, _) => d.Label)),
                    1 => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) => Fill(ref value, _detections[_row], 1, (d, _) => d.Score)),
                    _ => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) => Fill(ref value, _detections[_row], 4,
                        (d, k) => k switch { 0 => d.X0, 1 => d.Y0, 2 => d.X1, _ => d.Y1 })),
                };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' has type {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        private static void Fill<T>(ref VBuffer<T> value, DetectedObject[] detections, int per, Func<DetectedObject, int, T> select)
        {
            var editor = VBufferEditor.Create(ref value, detections.Length * per);
            for (var i = 0; i < detections.Length; i++)
                for (var k = 0; k < per; k++)
                    editor.Values[i * per + k] = select(detections[i], k);
            value = editor.Commit();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _input.Dispose();
            base.Dispose(disposing);
        }
    }
}

using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>
/// <see cref="ObjectDetectorTransformer.Transform"/>'s scorer for the shared <see cref="BatchedDataView"/>: each image is
/// letterboxed as its row is read, <see cref="ObjectDetectorTransformer.ScoringBatchSize"/> images are detected in one
/// forward pass, and the detection columns (PredictedLabel, Score, PredictedBoundingBoxes) are read from that batch.
/// </summary>
internal sealed class DetectionBatchScorer(ObjectDetectorTransformer parent) : IBatchScorer
{
    public int BatchSize => parent.ScoringBatchSize;

    public IReadOnlyList<string> ScoredColumns => [parent.ImageColumnName];

    public string ScoredColumnsDescription => $"image column '{parent.ImageColumnName}'";

    public DataViewSchema OutputSchema(DataViewSchema input) => parent.GetOutputSchema(input);

    public IBatchReader CreateReader(DataViewRow input) => new Reader(parent, input);

    public Action<Microsoft.ML.Model.OnnxConverter.OnnxContext>? SaveAsOnnx => null;

    private sealed class Reader(ObjectDetectorTransformer parent, DataViewRow input) : IBatchReader
    {
        private readonly ValueGetter<MLImage> _image = input.GetGetter<MLImage>(input.Schema[parent.ImageColumnName]);
        private readonly PreparedImage?[] _prepared = new PreparedImage?[parent.ScoringBatchSize];
        private DetectedObject[][] _detections = [];

        public void Read(int slot)
        {
            MLImage image = null!;
            _image(ref image);
            _prepared[slot] = parent.Prepare(image);
        }

        public void Score(int rows) => _detections = parent.Detect(_prepared.AsSpan(0, rows).ToArray());

        public Delegate Getter(string column, Func<int> row)
        {
            var o = parent.Outputs;
            if (column == o.PredictedLabel)
                return (ValueGetter<VBuffer<uint>>)((ref VBuffer<uint> value) => Fill(ref value, _detections[row()], 1, (d, _) => d.Label));
            if (column == o.Score)
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) => Fill(ref value, _detections[row()], 1, (d, _) => d.Score));
            if (column == o.PredictedBoundingBoxes)
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) => Fill(ref value, _detections[row()], 4,
                    (d, k) => k switch { 0 => d.X0, 1 => d.Y0, 2 => d.X1, _ => d.Y1 }));
            throw new InvalidOperationException($"'{column}' is not a column of the object detector.");
        }

        private static void Fill<T>(ref VBuffer<T> value, DetectedObject[] detections, int per, Func<DetectedObject, int, T> select)
        {
            var editor = VBufferEditor.Create(ref value, detections.Length * per);
            for (var i = 0; i < detections.Length; i++)
                for (var k = 0; k < per; k++)
                    editor.Values[i * per + k] = select(detections[i], k);
            value = editor.Commit();
        }
    }
}

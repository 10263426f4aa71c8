using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using Microsoft.ML.Transforms.Image;
using ML.DeepExtensions.Vision.Detection;
using ML.DeepExtensions.Vision.Persistence;

namespace ML.DeepExtensions.Vision.Interop;

/// <summary>ML.NET's row mapping around <see cref="DetectionRowMapper"/>: the output schema and <c>PredictionEngine</c>
/// (<c>Transform</c> is the shared batched view with <see cref="DetectionBatchScorer"/>).</summary>
internal static class DetectionInterop
{
    public static DataViewSchema OutputSchema(ObjectDetectorTransformer transformer, DataViewSchema inputSchema)
        => RowMapping.OutputSchema(inputSchema, schema => new DetectionRowMapper(transformer, schema));

    public static IRowToRowMapper RowToRowMapper(ObjectDetectorTransformer transformer, DataViewSchema inputSchema)
        => RowMapping.RowToRowMapper(transformer.Environment, inputSchema, schema => new DetectionRowMapper(transformer, schema));
}

/// <summary>Detects the objects of the current row's image once per cursor position.</summary>
internal sealed class DetectionRowMapper : IRowMapper
{
    private readonly ObjectDetectorTransformer _parent;
    private readonly int _imageIndex;

    public DetectionRowMapper(ObjectDetectorTransformer parent, DataViewSchema inputSchema)
    {
        var column = SchemaChecks.Find(inputSchema, "image", parent.ImageColumnName);
        if (column.Type is not ImageDataViewType)
            throw SchemaChecks.Mismatch("image", column.Name, "an image (MLImage, from mlContext.Transforms.LoadImages)", column.Type);
        _parent = parent;
        _imageIndex = column.Index;
    }

    public DataViewSchema.DetachedColumn[] GetOutputColumns()
    {
        var names = _parent.ClassNames;
        var keyValues = new DataViewSchema.Annotations.Builder();
        keyValues.AddKeyValues(names.Count, TextDataViewType.Instance, (ref VBuffer<ReadOnlyMemory<char>> value) =>
        {
            var editor = VBufferEditor.Create(ref value, names.Count);
            for (var i = 0; i < names.Count; i++)
                editor.Values[i] = names[i].AsMemory();
            value = editor.Commit();
        });
        var o = _parent.Outputs;
        return
        [
            new(o.PredictedLabel, new VectorDataViewType(new KeyDataViewType(typeof(uint), names.Count)), keyValues.ToAnnotations()),
            new(o.Score, new VectorDataViewType(NumberDataViewType.Single)),
            new(o.PredictedBoundingBoxes, new VectorDataViewType(NumberDataViewType.Single)),
        ];
    }

    public Func<int, bool> GetDependencies(Func<int, bool> activeOutput)
    {
        var active = activeOutput(0) || activeOutput(1) || activeOutput(2);
        return column => active && column == _imageIndex;
    }

    public Delegate[] CreateGetters(DataViewRow input, Func<int, bool> activeOutput, out Action disposer)
    {
        disposer = () => { };
        if (!activeOutput(0) && !activeOutput(1) && !activeOutput(2))
            return new Delegate[3];
        var getImage = input.GetGetter<MLImage>(input.Schema[_imageIndex]);
        MLImage image = null!;
        var current = RowMapping.OncePerPosition(input, () =>
        {
            getImage(ref image);
            return _parent.Detect([image])[0].ToArray();
        });
        ValueGetter<VBuffer<uint>> labels = (ref VBuffer<uint> value) =>
        {
            var detections = current();
            var editor = VBufferEditor.Create(ref value, detections.Length);
            for (var i = 0; i < detections.Length; i++)
                editor.Values[i] = detections[i].Label;
            value = editor.Commit();
        };
        ValueGetter<VBuffer<float>> scores = (ref VBuffer<float> value) =>
        {
            var detections = current();
            var editor = VBufferEditor.Create(ref value, detections.Length);
            for (var i = 0; i < detections.Length; i++)
                editor.Values[i] = detections[i].Score;
            value = editor.Commit();
        };
        ValueGetter<VBuffer<float>> boxes = (ref VBuffer<float> value) =>
        {
            var detections = current();
            var editor = VBufferEditor.Create(ref value, detections.Length * 4);
            for (var i = 0; i < detections.Length; i++)
            {
                var d = detections[i];
                (editor.Values[4 * i], editor.Values[4 * i + 1], editor.Values[4 * i + 2], editor.Values[4 * i + 3]) = (d.X0, d.Y0, d.X1, d.Y1);
            }
            value = editor.Commit();
        };
        return [labels, scores, boxes];
    }

    public ITransformer GetTransformer() => _parent;

    void ICanSaveModel.Save(ModelSaveContext ctx) => ObjectDetectorFormat.Save(ctx, _parent);
}

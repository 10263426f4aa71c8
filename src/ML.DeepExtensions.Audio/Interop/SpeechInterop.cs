using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Audio.Persistence;
using ML.DeepExtensions.Interop;

namespace ML.DeepExtensions.Audio.Interop;

/// <summary>
/// Every use of ML.NET internals by the audio package outside (de)serialization: the environment behind a catalog, and
/// ML.NET's row-mapping data view (<c>RowToRowMapperTransform</c>) around the package's row mappers (parallel cursors,
/// <c>PredictionEngine</c>).
/// </summary>
internal static class SpeechInterop
{
    public static IHostEnvironment Environment(object catalog)
    {
        MLNetInternals.SelfCheck();
        if (typeof(SpeechInterop).Assembly.GetCustomAttributes(typeof(LoadableClassAttribute), false).Length == 0)
            throw new InvalidOperationException(
                "ML.DeepExtensions.Audio cannot register its model loaders: the runtime dropped its LoadableClass attributes " +
                "(IgnoresAccessChecksTo is not honoured). Saved models could not be loaded; use .NET 8 or later on CoreCLR.");
        return catalog switch
        {
            TransformsCatalog transforms => CatalogUtils.GetEnvironment(transforms),
            MLContext context => context,
            _ => throw new ArgumentException($"Unexpected catalog {catalog.GetType().Name}.", nameof(catalog)),
        };
    }

    public static DataViewSchema OutputSchema(SpeechRecognitionTransformer transformer, DataViewSchema inputSchema)
        => RowMapping.OutputSchema(inputSchema, schema => new TranscriptRowMapper(transformer, schema));

    public static IRowToRowMapper RowToRowMapper(SpeechRecognitionTransformer transformer, DataViewSchema inputSchema)
        => RowMapping.RowToRowMapper(transformer.Environment, inputSchema, schema => new TranscriptRowMapper(transformer, schema));

    public static DataViewSchema OutputSchema(AudioFeaturizingTransformer transformer, DataViewSchema inputSchema)
        => RowMapping.OutputSchema(inputSchema, schema => new AudioFeaturizingRowMapper(transformer, schema));

    public static IRowToRowMapper RowToRowMapper(AudioFeaturizingTransformer transformer, DataViewSchema inputSchema)
        => RowMapping.RowToRowMapper(transformer.Environment, inputSchema, schema => new AudioFeaturizingRowMapper(transformer, schema));

    public static IDataView Transform(AudioFeaturizingTransformer transformer, IDataView input)
        => RowMapping.Transform(transformer.Environment, input, schema => new AudioFeaturizingRowMapper(transformer, schema));

    public static DataViewSchema OutputSchema(AudioLoadingTransformer transformer, DataViewSchema inputSchema)
        => RowMapping.OutputSchema(inputSchema, schema => new AudioLoadingRowMapper(transformer, schema));

    public static IRowToRowMapper RowToRowMapper(AudioLoadingTransformer transformer, DataViewSchema inputSchema)
        => RowMapping.RowToRowMapper(transformer.Environment, inputSchema, schema => new AudioLoadingRowMapper(transformer, schema));

    public static IDataView Transform(AudioLoadingTransformer transformer, IDataView input)
        => RowMapping.Transform(transformer.Environment, input, schema => new AudioLoadingRowMapper(transformer, schema));
}

/// <summary>Transcribes the current row's audio once per cursor position (the <c>PredictionEngine</c> / row-to-row path;
/// <c>Transform</c> scores batches: <see cref="SpeechRecognitionTransformer.Transform"/>).</summary>
internal sealed class TranscriptRowMapper : IRowMapper
{
    private readonly SpeechRecognitionTransformer _parent;
    private readonly int _audioIndex;

    public TranscriptRowMapper(SpeechRecognitionTransformer parent, DataViewSchema inputSchema)
    {
        AudioColumn.Check(inputSchema, parent.AudioColumnName);
        _parent = parent;
        _audioIndex = inputSchema[parent.AudioColumnName].Index;
    }

    public DataViewSchema.DetachedColumn[] GetOutputColumns() => [new(_parent.OutputColumnName, TextDataViewType.Instance)];

    public Func<int, bool> GetDependencies(Func<int, bool> activeOutput)
    {
        var active = activeOutput(0);
        return column => active && column == _audioIndex;
    }

    public Delegate[] CreateGetters(DataViewRow input, Func<int, bool> activeOutput, out Action disposer)
    {
        disposer = () => { };
        if (!activeOutput(0))
            return new Delegate[1];
        var samples = AudioColumn.Getter(input, input.Schema[_audioIndex]);
        var transcript = RowMapping.OncePerPosition(input, () => _parent.Transcribe(samples(input.Position, "scored")).AsMemory());
        ValueGetter<ReadOnlyMemory<char>> getter = (ref ReadOnlyMemory<char> value) => value = transcript();
        return [getter];
    }

    public ITransformer GetTransformer() => _parent;

    void ICanSaveModel.Save(ModelSaveContext ctx) => SpeechRecognizerFormat.Save(ctx, _parent);
}

/// <summary>Reads the current row's WAV file once per cursor position.</summary>
internal sealed class AudioLoadingRowMapper : IRowMapper
{
    private readonly AudioLoadingTransformer _parent;
    private readonly int _pathIndex;

    public AudioLoadingRowMapper(AudioLoadingTransformer parent, DataViewSchema inputSchema)
    {
        AudioLoadingTransformer.CheckPathColumn(inputSchema, parent.InputColumnName);
        _parent = parent;
        _pathIndex = inputSchema[parent.InputColumnName].Index;
    }

    public DataViewSchema.DetachedColumn[] GetOutputColumns() => [new(_parent.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single))];

    public Func<int, bool> GetDependencies(Func<int, bool> activeOutput)
    {
        var active = activeOutput(0);
        return column => active && column == _pathIndex;
    }

    public Delegate[] CreateGetters(DataViewRow input, Func<int, bool> activeOutput, out Action disposer)
    {
        disposer = () => { };
        if (!activeOutput(0))
            return new Delegate[1];
        var path = input.GetGetter<ReadOnlyMemory<char>>(input.Schema[_pathIndex]);
        var text = default(ReadOnlyMemory<char>);
        var samples = RowMapping.OncePerPosition(input, () =>
        {
            path(ref text);
            return WavAudio.Read(_parent.Resolve(text.ToString()), _parent.SampleRate);
        });
        ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) => Write(samples(), ref value);
        return [getter];
    }

    /// <summary>Copies <paramref name="values"/> into <paramref name="value"/> (reusing its buffer).</summary>
    internal static void Write(float[] values, ref VBuffer<float> value)
    {
        var editor = VBufferEditor.Create(ref value, values.Length);
        values.CopyTo(editor.Values);
        value = editor.Commit();
    }

    public ITransformer GetTransformer() => _parent;

    void ICanSaveModel.Save(ModelSaveContext ctx) => AudioLoadingFormat.Save(ctx, _parent);
}

/// <summary>Computes the current row's fixed-size features once per cursor position (one filterbank per cursor).</summary>
internal sealed class AudioFeaturizingRowMapper : IRowMapper
{
    private readonly AudioFeaturizingTransformer _parent;
    private readonly int _audioIndex;

    public AudioFeaturizingRowMapper(AudioFeaturizingTransformer parent, DataViewSchema inputSchema)
    {
        AudioColumn.Check(inputSchema, parent.InputColumnName);
        _parent = parent;
        _audioIndex = inputSchema[parent.InputColumnName].Index;
    }

    public DataViewSchema.DetachedColumn[] GetOutputColumns() => [new(_parent.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, _parent.Size))];

    public Func<int, bool> GetDependencies(Func<int, bool> activeOutput)
    {
        var active = activeOutput(0);
        return column => active && column == _audioIndex;
    }

    public Delegate[] CreateGetters(DataViewRow input, Func<int, bool> activeOutput, out Action disposer)
    {
        disposer = () => { };
        if (!activeOutput(0))
            return new Delegate[1];
        var samples = AudioColumn.Getter(input, input.Schema[_audioIndex]);
        var bank = new FeatureBank(_parent.Features, TorchSharp.torch.CPU);
        disposer = bank.Dispose;
        var values = new float[_parent.Size];
        var features = RowMapping.OncePerPosition(input, () =>
        {
            bank.Fixed(samples(input.Position, "featurized"), _parent.Frames, values);
            return values;
        });
        ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) => AudioLoadingRowMapper.Write(features(), ref value);
        return [getter];
    }

    public ITransformer GetTransformer() => _parent;

    void ICanSaveModel.Save(ModelSaveContext ctx) => AudioFeaturizingFormat.Save(ctx, _parent);
}

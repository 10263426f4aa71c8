using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Audio.Interop;
using ML.DeepExtensions.Audio.Persistence;
using ML.DeepExtensions.Interop;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// <c>mlContext.Transforms.ComputeAudioFeatures</c>: the log-mel (or MFCC) frames of an audio column (a vector of Single,
/// mono samples) as a known-size vector of Single, <see cref="AudioFeaturizingTransformer.Frames"/> ×
/// <see cref="AudioFeatureOptions.FeaturesPerFrame"/> values, frame by frame. Longer utterances keep their first frames;
/// shorter ones are padded with zeros (the mean of a normalised utterance). The features are <see cref="AudioFeatures"/>'
/// (one implementation for training, scoring and the speech recogniser). Stateless; <c>Fit</c> only checks the schema.
/// </summary>
public sealed class AudioFeaturizingEstimator : IEstimator<AudioFeaturizingTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly string _output;
    private readonly string _input;
    private readonly int _frames;
    private readonly AudioFeatureOptions _features;

    internal AudioFeaturizingEstimator(IHostEnvironment env, string outputColumnName, string inputColumnName, int frames, AudioFeatureOptions features)
    {
        _env = env;
        _output = Guard.NotEmpty(outputColumnName);
        _input = Guard.NotEmpty(inputColumnName);
        _frames = Guard.Positive(frames);
        _features = Guard.NotNull(features).Clone();
        _features.Validate();
    }

    /// <inheritdoc />
    public AudioFeaturizingTransformer Fit(IDataView input)
    {
        AudioColumn.Check(Guard.NotNull(input).Schema, _input);
        return new AudioFeaturizingTransformer(_env, _output, _input, _frames, _features);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        AudioColumn.Check(Guard.NotNull(inputSchema), _input);
        var columns = inputSchema.ToDictionary(c => c.Name);
        columns[_output] = MLNetInternals.Column(_output, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(columns.Values);
    }
}

/// <summary>Computes fixed-size audio features (see <see cref="AudioFeaturizingEstimator"/>).</summary>
public sealed class AudioFeaturizingTransformer : ITransformer
{
    private readonly AudioFeatureOptions _features;

    internal AudioFeaturizingTransformer(IHostEnvironment env, string outputColumnName, string inputColumnName, int frames, AudioFeatureOptions features)
    {
        Environment = env;
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
        Frames = frames;
        _features = features.Clone();
    }

    /// <summary>The features column: a vector of Single of <see cref="Frames"/> × <see cref="AudioFeatureOptions.FeaturesPerFrame"/>.</summary>
    public string OutputColumnName { get; }

    /// <summary>The audio column (vector of Single, mono samples at <see cref="AudioFeatureOptions.SampleRate"/>).</summary>
    public string InputColumnName { get; }

    /// <summary>Frames kept per utterance (first frames; zero-padded when shorter).</summary>
    public int Frames { get; }

    /// <summary>The feature settings (a copy).</summary>
    public AudioFeatureOptions Features => _features.Clone();

    /// <summary>Values per row: <see cref="Frames"/> × features per frame.</summary>
    public int Size => Frames * _features.FeaturesPerFrame;

    internal IHostEnvironment Environment { get; }

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => SpeechInterop.OutputSchema(this, Guard.NotNull(inputSchema));

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => SpeechInterop.RowToRowMapper(this, Guard.NotNull(inputSchema));

    /// <inheritdoc />
    public IDataView Transform(IDataView input) => SpeechInterop.Transform(this, Guard.NotNull(input));

    void ICanSaveModel.Save(ModelSaveContext ctx) => AudioFeaturizingFormat.Save(ctx, this);
}

using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Audio.Interop;
using ML.DeepExtensions.Audio.Persistence;
using ML.DeepExtensions.Interop;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// <c>mlContext.Transforms.LoadAudio</c>: reads the WAV file named by a path column (String) into a variable-size vector
/// of Single — mono (channels averaged), resampled to <see cref="AudioLoadingTransformer.SampleRate"/> (see
/// <see cref="WavAudio"/>). Stateless; <c>Fit</c> only checks the schema.
/// </summary>
public sealed class AudioLoadingEstimator : IEstimator<AudioLoadingTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly string _output;
    private readonly string _input;
    private readonly string? _folder;
    private readonly int _sampleRate;

    internal AudioLoadingEstimator(IHostEnvironment env, string outputColumnName, string inputColumnName, string? folder, int sampleRate)
    {
        _env = env;
        _output = Guard.NotEmpty(outputColumnName);
        _input = Guard.NotEmpty(inputColumnName);
        _folder = folder;
        _sampleRate = Guard.Positive(sampleRate);
    }

    /// <inheritdoc />
    public AudioLoadingTransformer Fit(IDataView input)
    {
        AudioLoadingTransformer.CheckPathColumn(Guard.NotNull(input).Schema, _input);
        return new AudioLoadingTransformer(_env, _output, _input, _folder, _sampleRate);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var path = SchemaChecks.Find(Guard.NotNull(inputSchema), "audio path", _input);
        if (path.Kind != SchemaShape.Column.VectorKind.Scalar || path.ItemType is not TextDataViewType)
            throw SchemaChecks.Mismatch("audio path", _input, "String (a WAV file path)", SchemaChecks.Describe(path));
        var columns = inputSchema.ToDictionary(c => c.Name);
        columns[_output] = MLNetInternals.Column(_output, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Single, false);
        return new SchemaShape(columns.Values);
    }
}

/// <summary>Reads WAV files into mono Single samples at <see cref="SampleRate"/> Hz (see <see cref="AudioLoadingEstimator"/>).</summary>
public sealed class AudioLoadingTransformer : ITransformer
{
    internal AudioLoadingTransformer(IHostEnvironment env, string outputColumnName, string inputColumnName, string? folder, int sampleRate)
    {
        Environment = env;
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
        Folder = folder;
        SampleRate = sampleRate;
    }

    /// <summary>The samples column (variable-size vector of Single).</summary>
    public string OutputColumnName { get; }

    /// <summary>The path column (String).</summary>
    public string InputColumnName { get; }

    /// <summary>Folder that relative paths are resolved against, or null (relative to the current directory).</summary>
    public string? Folder { get; }

    /// <summary>Sample rate of the output in Hz.</summary>
    public int SampleRate { get; }

    internal IHostEnvironment Environment { get; }

    internal string Resolve(string path) => Folder is null || Path.IsPathRooted(path) ? path : Path.Combine(Folder, path);

    internal static void CheckPathColumn(DataViewSchema schema, string name)
    {
        var column = SchemaChecks.Find(schema, "audio path", name);
        if (column.Type is not TextDataViewType)
            throw SchemaChecks.Mismatch("audio path", name, "String (a WAV file path)", column.Type);
    }

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => SpeechInterop.OutputSchema(this, Guard.NotNull(inputSchema));

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => SpeechInterop.RowToRowMapper(this, Guard.NotNull(inputSchema));

    /// <inheritdoc />
    public IDataView Transform(IDataView input) => SpeechInterop.Transform(this, Guard.NotNull(input));

    void ICanSaveModel.Save(ModelSaveContext ctx) => AudioLoadingFormat.Save(ctx, this);
}

using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Persistence;

namespace ML.DeepExtensions.Text.Tokenization;

/// <summary>
/// Tokenizes with a fixed vocabulary (GPT-2, cl100k, BPE files, WordPiece): <see cref="Fit"/> learns nothing; it
/// checks the schema and returns the <see cref="TokenizingTransformer"/>. The vocabulary is read when the
/// estimator is made, so a missing file fails at the catalog call.
/// </summary>
public sealed class TokenizingEstimator : IEstimator<TokenizingTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly TextTokenizer _tokenizer;
    private readonly TokenizationSettings _settings;

    internal TokenizingEstimator(IHostEnvironment env, TextTokenizer tokenizer, TokenizationSettings settings)
    {
        _env = env;
        _tokenizer = tokenizer;
        _settings = settings;
    }

    /// <inheritdoc />
    public TokenizingTransformer Fit(IDataView input)
    {
        Guard.NotNull(input);
        TextColumn.Check(input.Schema, _settings.InputColumnName);
        return new TokenizingTransformer(_env, _tokenizer, _settings);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => OutputShape.Of(Guard.NotNull(inputSchema), _settings);

    /// <summary>The text column the tokenizer reads.</summary>
    public string InputColumnName => _settings.InputColumnName;
}

/// <summary>
/// Learns a word-level vocabulary from the text column in <see cref="Fit"/> (see <see cref="WordVocabularyOptions"/>)
/// and returns a <see cref="TokenizingTransformer"/> of kind <see cref="TokenizerKind.WordVocabulary"/> whose
/// vocabulary is saved in the model zip.
/// </summary>
public sealed class WordVocabularyEstimator : IEstimator<TokenizingTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly TokenizationSettings _settings;
    private readonly int _maxVocabularySize;
    private readonly int _minFrequency;
    private readonly string _unknownToken;
    private readonly bool _lowerCase;

    internal WordVocabularyEstimator(IHostEnvironment env, WordVocabularyOptions options)
    {
        _env = env;
        _settings = TokenizationSettings.From(options, specialTokens: 0);
        _maxVocabularySize = options.MaxVocabularySize >= 3 ? options.MaxVocabularySize
            : throw new System.ArgumentOutOfRangeException(nameof(options.MaxVocabularySize), options.MaxVocabularySize,
                $"MaxVocabularySize must be at least 3 (padding, unknown token and one word). Received: MaxVocabularySize={options.MaxVocabularySize}");
        _minFrequency = Guard.Positive(options.MinFrequency, nameof(options.MinFrequency));
        _unknownToken = Guard.NotEmpty(options.UnknownToken, nameof(options.UnknownToken));
        if (_unknownToken == WordVocabularyOptions.Defaults.PaddingToken)
            throw new System.ArgumentException($"UnknownToken must differ from the padding token '{WordVocabularyOptions.Defaults.PaddingToken}'. Received: UnknownToken='{_unknownToken}'", nameof(options.UnknownToken));
        _lowerCase = options.LowerCase;
    }

    /// <summary>Counts the words of every row and keeps the most frequent ones.</summary>
    public TokenizingTransformer Fit(IDataView input)
    {
        Guard.NotNull(input);
        TextColumn.Check(input.Schema, _settings.InputColumnName);
        var counts = new Dictionary<string, long>(System.StringComparer.Ordinal);
        var column = input.Schema[_settings.InputColumnName];
        using (var cursor = input.GetRowCursor([column]))
        {
            var getter = cursor.GetGetter<System.ReadOnlyMemory<char>>(column);
            System.ReadOnlyMemory<char> text = default;
            while (cursor.MoveNext())
            {
                getter(ref text);
                foreach (var word in WordVocabulary.Split(text.Span, _lowerCase))
                    counts[word] = counts.GetValueOrDefault(word) + 1;
            }
        }
        var words = WordVocabulary.Learn(counts, _maxVocabularySize, _minFrequency, WordVocabularyOptions.Defaults.PaddingToken, _unknownToken);
        var definition = new TokenizerDefinition(TokenizerKind.WordVocabulary, LowerCase: _lowerCase, UnknownToken: _unknownToken, Words: words);
        return new TokenizingTransformer(_env, TextTokenizer.Create(definition), _settings);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => OutputShape.Of(Guard.NotNull(inputSchema), _settings);

    /// <summary>The text column the tokenizer reads.</summary>
    public string InputColumnName => _settings.InputColumnName;
}

internal static class OutputShape
{
    public static SchemaShape Of(SchemaShape input, TokenizationSettings settings)
    {
        TextColumn.Check(input, settings.InputColumnName);
        var columns = input.ToDictionary(c => c.Name);
        columns[settings.OutputColumnName] = MLNetInternals.Column(settings.OutputColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Int32, false);
        if (settings.LengthColumnName is { } length)
            columns[length] = MLNetInternals.Column(length, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32, false);
        if (settings.MaskColumnName is { } mask)
            columns[mask] = MLNetInternals.Column(mask, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(columns.Values);
    }
}

using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Tasks;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Text.Generation;

/// <summary>
/// Next-token prediction on the token-id column of a tokenizer: a decoder-only Transformer over the tokenizer's
/// vocabulary with a Dense layer to next-token logits, trained with <see cref="NextTokenObjective"/> on batches trimmed
/// to their longest text (<see cref="SequenceBatchSource"/>). Validation data may hold the token column or only the
/// text, which is then tokenized with the same tokenizer.
/// </summary>
internal sealed class NextTokenTask : TrainingTask
{
    private readonly TokenizingTransformer _tokenizer;
    private readonly LanguageModelOptions _options;

    public NextTokenTask(TokenizingTransformer tokenizer, LanguageModelOptions options)
    {
        _tokenizer = tokenizer;
        _options = options;
    }

    private int Length => _tokenizer.MaxLength;

    private int PaddingId => _tokenizer.PaddingId;

    /// <inheritdoc />
    public override TaskNetwork Plan(DataViewSchema training, DataViewSchema? validation)
    {
        CheckTokenColumn(training, "token-id");
        if (Length < 2)
            throw new ArgumentException($"The tokenizer's MaxLength must be at least 2 for a language model. Received: MaxLength={Length}", nameof(training));
        if (validation is not null)
        {
            if (validation.GetColumnOrNull(_options.TokenColumnName) is null)
                TextColumn.Check(validation, _tokenizer.InputColumnName);
            else
                CheckTokenColumn(validation, "validation token-id");
        }
        var o = _options;
        var network = Network.Create()
            .Transformer(_tokenizer.VocabularySize, o.Dimensions, Length, PaddingId, o.Layers, o.Heads, o.FeedForward, o.Dropout, causal: true)
            .Dense(_tokenizer.VocabularySize);
        return new TaskNetwork(network, [Length]);
    }

    /// <inheritdoc />
    public override SchemaShape OutputSchema(SchemaShape input) => OutputSchema(input, _options);

    /// <summary>The output shape for <paramref name="options"/>; checks the token column as far as a shape can tell.</summary>
    public static SchemaShape OutputSchema(SchemaShape input, LanguageModelOptions options)
    {
        var tokens = SchemaChecks.Find(input, "token-id", options.TokenColumnName);
        if (tokens.Kind != SchemaShape.Column.VectorKind.Vector || tokens.ItemType != NumberDataViewType.Int32)
            throw SchemaChecks.Mismatch("token-id", tokens.Name, ExpectedTokenColumn, SchemaChecks.Describe(tokens));
        var columns = input.ToDictionary(c => c.Name);
        var output = options.Generation.OutputColumnName;
        columns[output] = MLNetInternals.Column(output, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, false);
        return new SchemaShape(columns.Values);
    }

    /// <summary>Checks the token column's type (not yet its length) exactly as <see cref="OutputSchema(SchemaShape, LanguageModelOptions)"/> does.</summary>
    public static void CheckTokenType(DataViewSchema schema, string name, string role = "token-id")
    {
        var column = SchemaChecks.Find(schema, role, name);
        if (column.Type is not VectorDataViewType { IsKnownSize: true, ItemType: var item } || item != NumberDataViewType.Int32)
            throw SchemaChecks.Mismatch(role, name, ExpectedTokenColumn, column.Type);
    }

    private const string ExpectedTokenColumn = "a known-size vector of Int32 (the output of mlContext.Transforms.Text.TokenizeToIds*)";

    /// <inheritdoc />
    public override BatchSource Read(IDataView data, Func<long, bool>? rows, string role, TrainerOptions options)
    {
        var ids = data.Schema.GetColumnOrNull(_options.TokenColumnName) is null
            ? TokenRows.FromTextColumn(data, _tokenizer.InputColumnName, _tokenizer)
            : TokenRows.FromTokenColumn(data, _options.TokenColumnName, Length, PaddingId, rows);
        if (ids.Count == 0)
            throw new InvalidDataException(
                $"The {role} data has no row with tokens in column '{_options.TokenColumnName}'; at least one non-empty text is required.");
        return new SequenceBatchSource(ids, Length, PaddingId, _options.LengthBucketing);
    }

    /// <inheritdoc />
    public override TrainingObjective CreateObjective() => new NextTokenObjective(PaddingId);

    private void CheckTokenColumn(DataViewSchema schema, string role)
    {
        CheckTokenType(schema, _options.TokenColumnName, role);
        var column = schema[_options.TokenColumnName];
        if (((VectorDataViewType)column.Type).Size != _tokenizer.MaxLength)
            throw SchemaChecks.Mismatch(role, column.Name, $"a known-size vector of Int32 with {_tokenizer.MaxLength} values (the tokenizer's MaxLength)", column.Type);
    }
}

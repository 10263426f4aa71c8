using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Training;
using TorchSharp;

namespace ML.DeepExtensions.Text.Generation;

/// <summary>
/// Trains a GPT-style language model (see <see cref="LanguageModelOptions"/>) on the token-id column of a
/// tokenizer transform that precedes it in the pipeline. The fitted <see cref="LanguageModelTransformer"/>
/// contains that tokenizer, so it turns prompts into continuations by itself.
/// </summary>
public sealed class LanguageModelEstimator : IEstimator<LanguageModelTransformer>
{
    private readonly IHost _host;

    internal LanguageModelEstimator(IHostEnvironment env, LanguageModelOptions options)
    {
        Guard.NotNull(env);
        Options = Guard.NotNull(options);
        options.Validate();
        _host = env.Register(nameof(LanguageModelEstimator));
    }

    /// <summary>The options this estimator was created with.</summary>
    public LanguageModelOptions Options { get; }

    /// <inheritdoc />
    public LanguageModelTransformer Fit(IDataView input)
    {
        Guard.NotNull(input);
        var options = Options;
        var tokenizer = options.Tokenizer ?? TokenizedViews.Find(input, options.TokenColumnName)
            ?? throw new ArgumentException(
                $"No tokenizer produced token-id column '{options.TokenColumnName}' in this pipeline. Append the language model after " +
                "mlContext.Transforms.Text.TokenizeToIds* (e.g. TokenizeToIdsWithWordVocabulary(\"Tokens\", \"Text\").Append(TrainLanguageModel(\"Tokens\"))), " +
                "or set LanguageModelOptions.Tokenizer to the fitted tokenizer.", nameof(input));
        var length = CheckTokenColumn(input.Schema, options.TokenColumnName, tokenizer);
        if (length < 2)
            throw new ArgumentException($"The tokenizer's MaxLength must be at least 2 for a language model. Received: MaxLength={length}", nameof(input));

        using var channel = _host.Start("Training");
        var settings = HostSettings.Read(_host);
        var seed = settings.Seed ?? Random.Shared.Next();
        var device = Devices.Select(settings, channel);
        var padding = tokenizer.PaddingId;

        var fraction = options.ValidationSet is null ? options.ValidationFraction : 0;
        var trainRows = TokenRows.FromTokenColumn(input, options.TokenColumnName, length, padding,
            fraction > 0 ? row => !ExampleReader.IsValidationRow(row, seed, fraction) : null);
        if (trainRows.Count == 0)
            throw new System.IO.InvalidDataException($"The training data has no row with tokens in column '{options.TokenColumnName}'; at least one non-empty text is required.");
        SequenceBatchSource? validation = null;
        if (options.ValidationSet is { } validationSet)
        {
            var rows = validationSet.Schema.GetColumnOrNull(options.TokenColumnName) is null
                ? TokenRows.FromTextColumn(validationSet, tokenizer.InputColumnName, tokenizer)
                : TokenRows.FromTokenColumn(validationSet, options.TokenColumnName, CheckTokenColumn(validationSet.Schema, options.TokenColumnName, tokenizer), padding);
            validation = new SequenceBatchSource(rows, length, padding);
        }
        else if (fraction > 0)
        {
            validation = new SequenceBatchSource(
                TokenRows.FromTokenColumn(input, options.TokenColumnName, length, padding, row => ExampleReader.IsValidationRow(row, seed, fraction)), length, padding);
        }

        var network = Network.Create()
            .Transformer(tokenizer.VocabularySize, options.Dimensions, length, padding, options.Layers, options.Heads,
                options.FeedForward, options.Dropout, causal: true)
            .Dense(tokenizer.VocabularySize);
        int[] inputShape = [length];
        var model = NetworkModel.Build(network, inputShape, seed, device);
        try
        {
            channel.Info($"Training a language model on {device.type}: {trainRows.Count} texts, {validation?.Count ?? 0} validation texts, " +
                         $"vocabulary {tokenizer.VocabularySize}, context {length}.\n{network.Summary(inputShape)}");
            var history = TrainingLoop.Run(new TrainingRequest(model.Module, model.Fingerprint, new NextTokenObjective(padding),
                new SequenceBatchSource(trainRows, length, padding), validation, options, device, seed, channel, null, inputShape));
            return new LanguageModelTransformer(_host, tokenizer, model, options.TokenColumnName, options.Generation, history);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Guard.NotNull(inputSchema);
        if (!inputSchema.TryFindColumn(Options.TokenColumnName, out var tokens))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Token-id column '{Options.TokenColumnName}' not found in the input.");
        if (tokens.Kind != SchemaShape.Column.VectorKind.Vector || tokens.ItemType != NumberDataViewType.Int32)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for token-id column '{Options.TokenColumnName}': expected a known-size vector of Int32, got {tokens.GetTypeString()}.");
        var columns = inputSchema.ToDictionary(c => c.Name);
        var output = Options.Generation.OutputColumnName;
        columns[output] = MLNetInternals.Column(output, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, false);
        return new SchemaShape(columns.Values);
    }

    private static int CheckTokenColumn(DataViewSchema schema, string name, TokenizingTransformer tokenizer)
    {
        var column = SchemaChecks.Find(schema, "Token-id", name);
        var expected = $"a vector of Int32 with {tokenizer.MaxLength} values (the tokenizer's MaxLength)";
        if (column.Type is not VectorDataViewType { IsKnownSize: true, ItemType: var item } vector || item != NumberDataViewType.Int32 || vector.Size != tokenizer.MaxLength)
            throw SchemaChecks.Mismatch("token-id", name, expected, column.Type);
        return vector.Size;
    }
}

using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Tasks;

namespace ML.DeepExtensions.Text.Classification;

/// <summary>
/// Shared <c>Fit</c> of the neural text trainers: check the text and label columns, fit the tokenizer (a String
/// column) on the training data, build the encoder network for its vocabulary and padding id, and train it with the
/// <see cref="FittingPipeline"/> on the token ids. The result is a chain <c>[tokenizer,] network</c>: scoring tokenizes exactly as
/// training did, and one <c>mlContext.Model.Save</c> stores both.
/// </summary>
/// <typeparam name="TOptions">The task's options.</typeparam>
public abstract class NeuralTextTrainerBase<TOptions> : IEstimator<TransformerChain<NeuralNetworkTransformer>>
    where TOptions : NeuralTextOptions
{
    private const string ExpectedText =
        "String (text, tokenized by the trainer) or a known-size vector of Int32 token ids (from mlContext.Transforms.Text.TokenizeToIds*)";

    private readonly IHost _host;
    private readonly TargetKind _kind;

    private protected NeuralTextTrainerBase(IHostEnvironment env, TOptions options, string name, TargetKind kind)
    {
        Environment = Guard.NotNull(env);
        Options = Guard.NotNull(options);
        options.Validate();
        _host = env.Register(name);
        _kind = kind;
    }

    /// <summary>The options this trainer was created with.</summary>
    public TOptions Options { get; }

    private protected IHostEnvironment Environment { get; }

    /// <summary>The token-id column the default word vocabulary writes: <c>{Text}.Tokens</c>.</summary>
    public string TokenColumnName => Options.TextColumnName + ".Tokens";

    /// <inheritdoc />
    public TransformerChain<NeuralNetworkTransformer> Fit(IDataView input)
    {
        Guard.NotNull(input);
        var options = Options;
        _kind.CheckLabel(input.Schema, options.LabelColumnName);
        var text = SchemaChecks.Find(input.Schema, "text", options.TextColumnName);
        IDataView? validation = options.ValidationSet;
        if (validation is not null)
            _kind.CheckLabel(validation.Schema, options.LabelColumnName, "validation label");

        TokenizingTransformer? tokenizer = null;
        string ids;
        int vocabularySize, paddingId, maxLength;
        int? classTokenId = null;
        if (text.Type is TextDataViewType)
        {
            TextColumn.RejectEmpty(input, options.TextColumnName, "training");
            if (validation is not null)
            {
                TextColumn.Check(validation.Schema, options.TextColumnName);
                TextColumn.RejectEmpty(validation, options.TextColumnName, "validation");
            }
            tokenizer = CreateTokenizer().Fit(input);
            CheckBertVocabulary(tokenizer.VocabularySize, tokenizer.PaddingId, "the tokenizer's");
            if (tokenizer.InputColumnName != options.TextColumnName)
                throw new ArgumentException(
                    $"The tokenizer reads column '{tokenizer.InputColumnName}' but TextColumnName is '{options.TextColumnName}'; create the tokenizer with inputColumnName: \"{options.TextColumnName}\".",
                    nameof(options.Tokenizer));
            ids = tokenizer.OutputColumnName;
            vocabularySize = tokenizer.VocabularySize;
            paddingId = tokenizer.PaddingId;
            maxLength = tokenizer.MaxLength;
            classTokenId = tokenizer.ClassificationTokenId;
            if (validation is not null)
                validation = tokenizer.Transform(validation);
        }
        else if (text.Type is VectorDataViewType { IsKnownSize: true } vector && vector.ItemType == NumberDataViewType.Int32)
        {
            ids = text.Name;
            vocabularySize = options.VocabularySize
                ?? throw new ArgumentException($"Text column '{text.Name}' holds token ids: set VocabularySize (e.g. the tokenizer's VocabularySize).", nameof(options.VocabularySize));
            paddingId = options.PaddingId
                ?? throw new ArgumentException($"Text column '{text.Name}' holds token ids: set PaddingId (e.g. the tokenizer's PaddingId).", nameof(options.PaddingId));
            maxLength = vector.Size;
            CheckBertVocabulary(vocabularySize, paddingId, "VocabularySize/PaddingId");
            if (validation is not null)
            {
                var validationIds = SchemaChecks.Find(validation.Schema, "validation text", text.Name);
                if (!validationIds.Type.Equals(text.Type))
                    throw SchemaChecks.Mismatch("validation text", text.Name, SchemaChecks.Describe(text.Type), validationIds.Type);
            }
        }
        else
        {
            throw SchemaChecks.Mismatch("text", text.Name, ExpectedText, text.Type);
        }

        var training = tokenizer?.Transform(input) ?? input;
        var task = CreateTask(ids, EncoderNetwork(vocabularySize, paddingId, maxLength, classTokenId), (options.LengthBucketing ?? options.Network.Bert is null) ? RealTokens(paddingId) : null);
        // A pretrained encoder starts from its own weights unless the user names others (e.g. an earlier fine-tuning's).
        var fitted = FittingPipeline.Fit(_host, options, task, training, validation, options.PretrainedWeights ?? options.Network.Bert?.Weights);
        var model = new NeuralNetworkTransformer(fitted.Model, task.Head(training.Schema), ids, fitted.History, options.ScoringBatchSize) { NumberOfThreads = options.NumberOfThreads };
        return tokenizer is null
            ? new TransformerChain<NeuralNetworkTransformer>(model)
            : new TransformerChain<NeuralNetworkTransformer>(new ITransformer[] { tokenizer, model });
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Guard.NotNull(inputSchema);
        var options = Options;
        _kind.CheckLabel(inputSchema, options.LabelColumnName);
        var text = SchemaChecks.Find(inputSchema, "text", options.TextColumnName);
        var shape = inputSchema;
        var ids = options.TextColumnName;
        if (text.Kind == SchemaShape.Column.VectorKind.Scalar && text.ItemType is TextDataViewType)
        {
            var tokenizer = CreateTokenizer();
            shape = tokenizer.GetOutputSchema(inputSchema);
            ids = options.Tokenizer is null ? TokenColumnName : shape.Last(c => c.ItemType == NumberDataViewType.Int32 && c.Kind == SchemaShape.Column.VectorKind.Vector).Name;
        }
        else if (text.Kind != SchemaShape.Column.VectorKind.Vector || text.ItemType != NumberDataViewType.Int32)
        {
            throw SchemaChecks.Mismatch("text", text.Name, ExpectedText, SchemaChecks.Describe(text));
        }
        return CreateTask(ids, EncoderNetwork(options.VocabularySize ?? 3, 0, options.MaxLength, null)).OutputSchema(shape);
    }

    private SupervisedNetworkTask CreateTask(string idColumn, Network network, Func<ReadOnlyMemory<float>, int>? rowLength = null)
        => new(_kind, Options.LabelColumnName, idColumn, network, null, Options.Objective, featureRole: "token-id")
        {
            OutputNames = Options.OutputColumns,
            ExampleWeightColumn = Options.ExampleWeightColumnName,
            RowLength = rowLength,
        };

    /// <summary>A row's length for bucketing: its ids that are not the padding id.</summary>
    private static Func<ReadOnlyMemory<float>, int> RealTokens(int paddingId) => ids =>
    {
        var count = 0;
        foreach (var id in ids.Span)
        {
            if (id != paddingId)
                count++;
        }
        return count;
    };

    /// <summary>Encoder architecture, then dropout; the task appends the output layer.</summary>
    private Network EncoderNetwork(int vocabularySize, int paddingId, int maxLength, int? classTokenId)
    {
        var options = Options;
        var encoder = options.Network;
        var name = encoder.Kind switch
        {
            TextEncoderKind.Transformer => TextArchitectures.TransformerEncoder,
            TextEncoderKind.PretrainedBert => TextArchitectures.BertEncoder,
            _ => TextArchitectures.RecurrentEncoder,
        };
        var network = Network.Create().Architecture(name, encoder.Parameters(vocabularySize, options.EmbeddingDimensions, paddingId, maxLength, options.Dropout, classTokenId));
        return options.Dropout > 0 ? network.Dropout(options.Dropout) : network;
    }

    /// <summary>A pretrained encoder reads ids of its own vocabulary only: a different tokenizer would feed it meaningless ids.</summary>
    private void CheckBertVocabulary(int vocabularySize, int paddingId, string source)
    {
        if (Options.Network.Bert is { } bert && (vocabularySize != bert.VocabularySize || paddingId != bert.PaddingId))
            throw new ArgumentException(
                $"{bert.Name} reads ids of its own WordPiece vocabulary ({bert.VocabularySize} tokens, [PAD] = {bert.PaddingId}); {source} vocabulary has {vocabularySize} tokens " +
                $"and padding id {paddingId}. Leave Tokenizer unset to use the encoder's tokenizer.", nameof(Options.Tokenizer));
    }

    private IEstimator<TokenizingTransformer> CreateTokenizer()
        => Options.Tokenizer ?? (Options.Network.Bert is { } bert
            ? bert.CreateTokenizer(Environment, Options.TextColumnName, TokenColumnName, Options.MaxLength)
            : new WordVocabularyEstimator(Environment, new WordVocabularyOptions
        {
            InputColumnName = Options.TextColumnName,
            OutputColumnName = TokenColumnName,
            MaxLength = Options.MaxLength,
            MaxVocabularySize = Options.MaxVocabularySize,
            MinFrequency = Options.MinFrequency,
        }));
}

/// <summary>
/// Neural text classifier for two classes. Label: Boolean. Outputs: <c>Score</c> (logit), <c>Probability</c>,
/// <c>PredictedLabel</c> (Boolean), for <c>mlContext.BinaryClassification.Evaluate</c>.
/// </summary>
public sealed class NeuralTextBinaryTrainer : NeuralTextTrainerBase<NeuralTextBinaryOptions>
{
    internal NeuralTextBinaryTrainer(IHostEnvironment env, NeuralTextBinaryOptions options)
        : base(env, options, nameof(NeuralTextBinaryTrainer), TargetKind.Binary)
    {
    }
}

/// <summary>
/// Neural text classifier for K classes. Label: a key type (use <c>MapValueToKey</c>). Outputs: <c>Score</c> (K
/// probabilities) and <c>PredictedLabel</c> (key with the label's values, so <c>MapKeyToValue</c> works).
/// </summary>
public sealed class NeuralTextMulticlassTrainer : NeuralTextTrainerBase<NeuralTextMulticlassOptions>
{
    internal NeuralTextMulticlassTrainer(IHostEnvironment env, NeuralTextMulticlassOptions options)
        : base(env, options, nameof(NeuralTextMulticlassTrainer), TargetKind.Multiclass)
    {
    }
}

/// <summary>Neural text regressor. Label: Single or Double. Output: <c>Score</c> (Single).</summary>
public sealed class NeuralTextRegressionTrainer : NeuralTextTrainerBase<NeuralTextRegressionOptions>
{
    internal NeuralTextRegressionTrainer(IHostEnvironment env, NeuralTextRegressionOptions options)
        : base(env, options, nameof(NeuralTextRegressionTrainer), TargetKind.Regression)
    {
    }
}

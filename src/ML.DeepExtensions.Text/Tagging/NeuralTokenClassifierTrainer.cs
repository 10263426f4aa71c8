using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Tasks;
using ML.DeepExtensions.Text.Pretrained;
using ML.DeepExtensions.Text.Tokenization;

namespace ML.DeepExtensions.Text.Tagging;

/// <summary>
/// Fine-tunes a pretrained BERT to label every word of a sentence — ML.NET's <c>NamedEntityRecognition</c> task and column
/// convention, offline: a text column (<c>Sentence</c>) and a vector of keys with one label per word (<c>Label</c>, e.g.
/// <c>MapValueToKey</c> over a String vector of tags) → <c>PredictedLabel</c>, a key vector with one prediction per word.
/// Words are runs of non-white-space characters; each is split into WordPiece pieces and predicted from its first piece.
/// Every row is checked before training: label count = word count, no missing key, at most <c>MaxLength</c> pieces.
/// </summary>
public sealed class NeuralTokenClassifierTrainer : IEstimator<NeuralTokenClassifierTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly IHost _host;

    internal NeuralTokenClassifierTrainer(IHostEnvironment env, NeuralTokenClassifierOptions options)
    {
        _env = Guard.NotNull(env);
        Options = Guard.NotNull(options);
        options.Validate();
        _host = env.Register(nameof(NeuralTokenClassifierTrainer));
    }

    /// <summary>The options this trainer was created with.</summary>
    public NeuralTokenClassifierOptions Options { get; }

    private PretrainedBert Bert => Options.Encoder!;

    /// <inheritdoc />
    public NeuralTokenClassifierTransformer Fit(IDataView input)
    {
        Guard.NotNull(input);
        TextColumn.Check(input.Schema, Options.SentenceColumnName);
        var tokenizer = Bert.CreateTokenizer(_env, Options.SentenceColumnName, Options.SentenceColumnName + ".WordPieces", Options.MaxLength).Fit(input);
        var task = new TokenTaggingTask(Options, new WordPieceAligner(tokenizer.Tokenizer, Options.MaxLength));
        var fitted = FittingPipeline.Fit(_host, Options, task, input, Options.ValidationSet, Options.PretrainedWeights ?? Bert.Weights);
        var label = input.Schema[Options.LabelColumnName];
        return new NeuralTokenClassifierTransformer(_env, tokenizer, fitted.Model, Options.SentenceColumnName, Options.OutputColumns.PredictedLabel,
            TargetKind.Multiclass.ClassNames(label) ?? DefaultClassNames(task.Classes), TargetKind.Multiclass.ClassValueType(label), fitted.History)
        {
            NumberOfThreads = Options.NumberOfThreads,
        };
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        => TokenTaggingTask.OutputSchema(Guard.NotNull(inputSchema), Options);

    private static string[] DefaultClassNames(int classes) => Enumerable.Range(1, classes).Select(k => k.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}

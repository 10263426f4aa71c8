using System;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Tasks;

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
        NextTokenTask.CheckTokenType(input.Schema, options.TokenColumnName);
        var tokenizer = options.Tokenizer ?? TokenizedDataView.FindProducer(input, options.TokenColumnName)
            ?? throw new ArgumentException(
                $"No tokenizer produced token-id column '{options.TokenColumnName}' in this pipeline. Append the language model after " +
                "mlContext.Transforms.Text.TokenizeToIds* (e.g. TokenizeToIdsWithWordVocabulary(\"Tokens\", \"Text\").Append(TrainLanguageModel(\"Tokens\"))), " +
                "or set LanguageModelOptions.Tokenizer to the fitted tokenizer.", nameof(input));
        var fitted = FittingPipeline.Fit(_host, options, new NextTokenTask(tokenizer, options), input, options.ValidationSet, pretrained: null);
        return new LanguageModelTransformer(_host, tokenizer, fitted.Model, options.TokenColumnName, options.Generation, fitted.History) { NumberOfThreads = options.NumberOfThreads };
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => NextTokenTask.OutputSchema(Guard.NotNull(inputSchema), Options);
}

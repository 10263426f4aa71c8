using Microsoft.ML;
using ML.DeepExtensions;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Training;

namespace Microsoft.ML;

/// <summary>
/// Neural text trainers on ML.NET's catalogs: <c>mlContext.BinaryClassification.Trainers.NeuralTextClassifier()</c>,
/// <c>mlContext.MulticlassClassification.Trainers.NeuralTextClassifier()</c> and
/// <c>mlContext.Regression.Trainers.NeuralTextRegressor()</c>. The names avoid ML.NET's own
/// <c>TextClassification</c> (Microsoft.ML.TorchSharp), so both packages can be used together, and keep the
/// <c>Neural</c> prefix of this family's <c>NeuralNetwork</c> trainers. Each returns a chain: the tokenizer (for a
/// String column) then the network, saved together in one zip.
/// </summary>
public static class NeuralTextCatalog
{
    /// <summary>
    /// Trains a text classifier for two classes. Output columns: <c>Score</c>, <c>Probability</c>, <c>PredictedLabel</c> (Boolean).
    /// </summary>
    /// <param name="catalog">The binary-classification trainers catalog.</param>
    /// <param name="labelColumnName">Label column, Boolean (default <c>Label</c>).</param>
    /// <param name="textColumnName">Text column, String (tokenized with a learned word vocabulary) (default <c>Text</c>).</param>
    /// <param name="network">Sequence encoder (default <see cref="TextEncoder.Lstm"/>: bidirectional, 64 units).</param>
    /// <param name="epochs">Passes over the data (default 20).</param>
    /// <param name="batchSize">Texts per step (default 32).</param>
    /// <param name="learningRate">Adam learning rate (default 1e-3).</param>
    public static NeuralTextBinaryTrainer NeuralTextClassifier(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = "Label", string textColumnName = "Text", TextEncoder? network = null,
        int epochs = TrainerOptions.Defaults.Epochs, int batchSize = TrainerOptions.Defaults.BatchSize, double learningRate = TrainerOptions.Defaults.LearningRate)
        => catalog.NeuralTextClassifier(Configure(new NeuralTextBinaryOptions(), labelColumnName, textColumnName, network, epochs, batchSize, learningRate));

    /// <summary>Trains a text classifier for two classes, with every option.</summary>
    public static NeuralTextBinaryTrainer NeuralTextClassifier(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, NeuralTextBinaryOptions options)
        => new(MLNetInternals.Environment(Guard.NotNull(catalog)), options);

    /// <summary>
    /// Trains a text classifier for K classes. Output columns: <c>Score</c> (K probabilities, slot names from the label's key
    /// values) and <c>PredictedLabel</c> (key, same values as the label).
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Label column, a key type (use <c>MapValueToKey</c>) (default <c>Label</c>).</param>
    /// <param name="textColumnName">Text column, String (tokenized with a learned word vocabulary) (default <c>Text</c>).</param>
    /// <param name="network">Sequence encoder (default <see cref="TextEncoder.Lstm"/>: bidirectional, 64 units).</param>
    /// <param name="epochs">Passes over the data (default 20).</param>
    /// <param name="batchSize">Texts per step (default 32).</param>
    /// <param name="learningRate">Adam learning rate (default 1e-3).</param>
    public static NeuralTextMulticlassTrainer NeuralTextClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string textColumnName = "Text", TextEncoder? network = null,
        int epochs = TrainerOptions.Defaults.Epochs, int batchSize = TrainerOptions.Defaults.BatchSize, double learningRate = TrainerOptions.Defaults.LearningRate)
        => catalog.NeuralTextClassifier(Configure(new NeuralTextMulticlassOptions(), labelColumnName, textColumnName, network, epochs, batchSize, learningRate));

    /// <summary>Trains a text classifier for K classes, with every option.</summary>
    public static NeuralTextMulticlassTrainer NeuralTextClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, NeuralTextMulticlassOptions options)
        => new(MLNetInternals.Environment(Guard.NotNull(catalog)), options);

    /// <summary>Trains a network that predicts a number from a text. Output column: <c>Score</c> (Single).</summary>
    /// <param name="catalog">The regression trainers catalog.</param>
    /// <param name="labelColumnName">Label column, Single or Double (default <c>Label</c>).</param>
    /// <param name="textColumnName">Text column, String (tokenized with a learned word vocabulary) (default <c>Text</c>).</param>
    /// <param name="network">Sequence encoder (default <see cref="TextEncoder.Lstm"/>: bidirectional, 64 units).</param>
    /// <param name="epochs">Passes over the data (default 20).</param>
    /// <param name="batchSize">Texts per step (default 32).</param>
    /// <param name="learningRate">Adam learning rate (default 1e-3).</param>
    public static NeuralTextRegressionTrainer NeuralTextRegressor(this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = "Label", string textColumnName = "Text", TextEncoder? network = null,
        int epochs = TrainerOptions.Defaults.Epochs, int batchSize = TrainerOptions.Defaults.BatchSize, double learningRate = TrainerOptions.Defaults.LearningRate)
        => catalog.NeuralTextRegressor(Configure(new NeuralTextRegressionOptions(), labelColumnName, textColumnName, network, epochs, batchSize, learningRate));

    /// <summary>Trains a network that predicts a number from a text, with every option.</summary>
    public static NeuralTextRegressionTrainer NeuralTextRegressor(this RegressionCatalog.RegressionTrainers catalog, NeuralTextRegressionOptions options)
        => new(MLNetInternals.Environment(Guard.NotNull(catalog)), options);

    private static T Configure<T>(T options, string label, string text, TextEncoder? network, int epochs, int batchSize, double learningRate)
        where T : NeuralTextOptions
    {
        options.LabelColumnName = label;
        options.TextColumnName = text;
        options.Network = network ?? options.Network;
        options.Epochs = epochs;
        options.BatchSize = batchSize;
        options.LearningRate = learningRate;
        return options;
    }
}

using Microsoft.ML;
using ML.DeepExtensions;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Trainers;
using ML.DeepExtensions.Training;

namespace Microsoft.ML;

/// <summary>
/// Network trainers on feature-vector columns, reached from ML.NET's catalogs:
/// <c>mlContext.Regression.Trainers.NeuralNetwork()</c>, <c>mlContext.BinaryClassification.Trainers.NeuralNetwork()</c>,
/// <c>mlContext.MulticlassClassification.Trainers.NeuralNetwork()</c>.
/// </summary>
public static class NeuralNetworkCatalog
{
    /// <summary>Trains a network that predicts a number. Output column: <c>Score</c> (Single).</summary>
    /// <param name="catalog">The regression trainers catalog.</param>
    /// <param name="labelColumnName">Label column, Single or Double (default <c>Label</c>).</param>
    /// <param name="featureColumnName">Feature column, a known-size vector of Single (default <c>Features</c>).</param>
    /// <param name="network">Network body; default an MLP with hidden layers of 128 and 64 units.</param>
    /// <param name="epochs">Passes over the data (default 20).</param>
    /// <param name="batchSize">Examples per step (default 32).</param>
    /// <param name="learningRate">Adam learning rate (default 1e-3).</param>
    public static NeuralNetworkRegressionTrainer NeuralNetwork(this RegressionCatalog.RegressionTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", Network? network = null,
        int epochs = TrainerOptions.Defaults.Epochs, int batchSize = TrainerOptions.Defaults.BatchSize, double learningRate = TrainerOptions.Defaults.LearningRate)
        => catalog.NeuralNetwork(Configure(new NeuralNetworkRegressionOptions(), labelColumnName, featureColumnName, network, epochs, batchSize, learningRate));

    /// <summary>Trains a network that predicts a number, with every option.</summary>
    public static NeuralNetworkRegressionTrainer NeuralNetwork(this RegressionCatalog.RegressionTrainers catalog, NeuralNetworkRegressionOptions options)
        => new(MLNetInternals.Environment(Guard.NotNull(catalog)), options);

    /// <summary>
    /// Trains a network that separates two classes. Output columns: <c>Score</c> (Single logit),
    /// <c>Probability</c> (Single), <c>PredictedLabel</c> (Boolean).
    /// </summary>
    /// <param name="catalog">The binary-classification trainers catalog.</param>
    /// <param name="labelColumnName">Label column, Boolean (default <c>Label</c>).</param>
    /// <param name="featureColumnName">Feature column, a known-size vector of Single (default <c>Features</c>).</param>
    /// <param name="network">Network body; default an MLP with hidden layers of 128 and 64 units.</param>
    /// <param name="epochs">Passes over the data (default 20).</param>
    /// <param name="batchSize">Examples per step (default 32).</param>
    /// <param name="learningRate">Adam learning rate (default 1e-3).</param>
    public static NeuralNetworkBinaryTrainer NeuralNetwork(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", Network? network = null,
        int epochs = TrainerOptions.Defaults.Epochs, int batchSize = TrainerOptions.Defaults.BatchSize, double learningRate = TrainerOptions.Defaults.LearningRate)
        => catalog.NeuralNetwork(Configure(new NeuralNetworkBinaryOptions(), labelColumnName, featureColumnName, network, epochs, batchSize, learningRate));

    /// <summary>Trains a network that separates two classes, with every option.</summary>
    public static NeuralNetworkBinaryTrainer NeuralNetwork(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, NeuralNetworkBinaryOptions options)
        => new(MLNetInternals.Environment(Guard.NotNull(catalog)), options);

    /// <summary>
    /// Trains a network that picks one of K classes. Output columns: <c>Score</c> (K class probabilities,
    /// slot names from the label's key values) and <c>PredictedLabel</c> (key, same values as the label).
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Label column, a key type (use <c>MapValueToKey</c>) (default <c>Label</c>).</param>
    /// <param name="featureColumnName">Feature column, a known-size vector of Single (default <c>Features</c>).</param>
    /// <param name="network">Network body; default an MLP with hidden layers of 128 and 64 units.</param>
    /// <param name="epochs">Passes over the data (default 20).</param>
    /// <param name="batchSize">Examples per step (default 32).</param>
    /// <param name="learningRate">Adam learning rate (default 1e-3).</param>
    public static NeuralNetworkMulticlassTrainer NeuralNetwork(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string featureColumnName = "Features", Network? network = null,
        int epochs = TrainerOptions.Defaults.Epochs, int batchSize = TrainerOptions.Defaults.BatchSize, double learningRate = TrainerOptions.Defaults.LearningRate)
        => catalog.NeuralNetwork(Configure(new NeuralNetworkMulticlassOptions(), labelColumnName, featureColumnName, network, epochs, batchSize, learningRate));

    /// <summary>Trains a network that picks one of K classes, with every option.</summary>
    public static NeuralNetworkMulticlassTrainer NeuralNetwork(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, NeuralNetworkMulticlassOptions options)
        => new(MLNetInternals.Environment(Guard.NotNull(catalog)), options);

    private static T Configure<T>(T options, string label, string features, Network? network, int epochs, int batchSize, double learningRate)
        where T : NeuralNetworkOptions
    {
        options.LabelColumnName = label;
        options.FeatureColumnName = features;
        options.Network = network ?? options.Network;
        options.Epochs = epochs;
        options.BatchSize = batchSize;
        options.LearningRate = learningRate;
        return options;
    }
}

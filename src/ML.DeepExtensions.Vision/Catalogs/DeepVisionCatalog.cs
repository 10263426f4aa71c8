using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions;
using ML.DeepExtensions.Vision;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Classification;

namespace Microsoft.ML;

/// <summary>
/// Image classification entry points: <c>mlContext.MulticlassClassification.Trainers.CnnImageClassifier(...)</c>
/// and <c>mlContext.Transforms.ExtractImageFeatures(...)</c>.
/// </summary>
public static class DeepVisionCatalog
{
    /// <summary>
    /// Trains a CNN that picks one of K classes for each image. Output columns: <c>Score</c> (K class
    /// probabilities) and <c>PredictedLabel</c> (key, same values as the label), as ML.NET's trainers.
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Label column, a key type (use <c>MapValueToKey</c>) (default <c>Label</c>).</param>
    /// <param name="imageColumnName">Image column: an <c>MLImage</c> from <c>LoadImages</c> (default <c>Image</c>).</param>
    /// <param name="network">Network body, e.g. <c>VisionArchitectures.ResNet18(width: 0.25, smallInput: true)</c>; default <c>LeNet5</c>.</param>
    /// <param name="epochs">Passes over the data (default 20).</param>
    /// <param name="batchSize">Images per step (default 32).</param>
    /// <param name="learningRate">Adam learning rate (default 1e-3).</param>
    public static CnnImageClassifierTrainer CnnImageClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label", string imageColumnName = "Image", Network? network = null,
        int epochs = TrainerOptions.Defaults.Epochs, int batchSize = TrainerOptions.Defaults.BatchSize, double learningRate = TrainerOptions.Defaults.LearningRate)
    {
        var options = new CnnImageClassifierOptions
        {
            LabelColumnName = labelColumnName,
            ImageColumnName = imageColumnName,
            Epochs = epochs,
            BatchSize = batchSize,
            LearningRate = learningRate,
        };
        if (network is not null)
            options.Network = network;
        return catalog.CnnImageClassifier(options);
    }

    /// <summary>Trains a CNN image classifier with every option.</summary>
    public static CnnImageClassifierTrainer CnnImageClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, CnnImageClassifierOptions options)
        => new(global::ML.DeepExtensions.Interop.MLNetInternals.Environment(Guard.NotNull(catalog)), options);

    /// <summary>
    /// The activations before a trained classifier's output layer, for each image, as a vector column: the
    /// same image preparation as the classifier, then its network without the output layer.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="classifier">A chain returned by <see cref="CnnImageClassifierTrainer.Fit"/>.</param>
    /// <param name="outputColumnName">The added column (default <c>Features</c>).</param>
    public static ImageFeaturesEstimator ExtractImageFeatures(this TransformsCatalog catalog, TransformerChain<NeuralNetworkTransformer> classifier,
        string outputColumnName = "Features")
    {
        Guard.NotNull(catalog);
        Guard.NotNull(classifier);
        var network = classifier.LastTransformer;
        var extractor = network.CreateFeatureExtractor(Guard.NotEmpty(outputColumnName), network.FeatureColumnName);
        var preprocessing = classifier.Take(classifier.Count() - 1);
        return new ImageFeaturesEstimator(new TransformerChain<NeuralNetworkTransformer>(preprocessing.Append(extractor).ToArray()));
    }
}

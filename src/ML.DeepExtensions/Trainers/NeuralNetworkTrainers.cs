using Microsoft.ML.Runtime;
using ML.DeepExtensions.Tasks;

namespace ML.DeepExtensions.Trainers;

/// <summary>Regression network on a feature vector. Label: Single or Double. Output: <c>Score</c>.</summary>
public sealed class NeuralNetworkRegressionTrainer : NeuralNetworkTrainerBase<NeuralNetworkRegressionOptions>
{
    internal NeuralNetworkRegressionTrainer(IHostEnvironment env, NeuralNetworkRegressionOptions options)
        : base(env, options, nameof(NeuralNetworkRegressionTrainer), TargetKind.Regression)
    {
    }
}

/// <summary>Binary classification network on a feature vector. Label: Boolean. Outputs: <c>Score</c>, <c>Probability</c>, <c>PredictedLabel</c>.</summary>
public sealed class NeuralNetworkBinaryTrainer : NeuralNetworkTrainerBase<NeuralNetworkBinaryOptions>
{
    private readonly IHostEnvironment _env;

    internal NeuralNetworkBinaryTrainer(IHostEnvironment env, NeuralNetworkBinaryOptions options)
        : base(env, options, nameof(NeuralNetworkBinaryTrainer), TargetKind.Binary)
    {
        _env = env;
    }

    /// <summary>
    /// This trainer as an ML.NET <c>ITrainerEstimator</c> returning a <c>BinaryPredictionTransformer</c>, for ML.NET's
    /// meta-trainers: <c>mlContext.MulticlassClassification.Trainers.OneVersusAll(trainer.AsTrainerEstimator())</c>.
    /// Custom output column names are not used there: ML.NET's scorer names them <c>Score</c>, <c>Probability</c>, <c>PredictedLabel</c>.
    /// </summary>
    public NeuralNetworkBinaryTrainerEstimator AsTrainerEstimator() => new(_env, this);
}

/// <summary>
/// Multiclass network on a feature vector. Label: a key type with K values. Outputs: <c>Score</c> (K
/// probabilities) and <c>PredictedLabel</c> (a key with the label's values, so <c>MapKeyToValue</c> works).
/// </summary>
public sealed class NeuralNetworkMulticlassTrainer : NeuralNetworkTrainerBase<NeuralNetworkMulticlassOptions>
{
    internal NeuralNetworkMulticlassTrainer(IHostEnvironment env, NeuralNetworkMulticlassOptions options)
        : base(env, options, nameof(NeuralNetworkMulticlassTrainer), TargetKind.Multiclass)
    {
    }
}

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
    internal NeuralNetworkBinaryTrainer(IHostEnvironment env, NeuralNetworkBinaryOptions options)
        : base(env, options, nameof(NeuralNetworkBinaryTrainer), TargetKind.Binary)
    {
    }
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

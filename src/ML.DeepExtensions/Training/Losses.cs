using System;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ML.DeepExtensions.Training;

/// <summary>Loss for regression networks.</summary>
public enum RegressionLoss
{
    /// <summary>Mean of (prediction − label)².</summary>
    MeanSquaredError,
    /// <summary>Mean of |prediction − label|.</summary>
    MeanAbsoluteError,
    /// <summary>Squared below 1, absolute above (robust to outliers).</summary>
    Huber,
}

/// <summary>The loss functions, each returning the mean over the batch.</summary>
internal static class Losses
{
    /// <summary>Regression losses; <paramref name="predictions"/> and <paramref name="labels"/> are (N).</summary>
    public static Tensor Regression(RegressionLoss kind, Tensor predictions, Tensor labels) => kind switch
    {
        RegressionLoss.MeanSquaredError => F.mse_loss(predictions, labels),
        RegressionLoss.MeanAbsoluteError => F.l1_loss(predictions, labels),
        RegressionLoss.Huber => F.huber_loss(predictions, labels, delta: 1.0),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown regression loss."),
    };

    /// <summary>Binary cross-entropy on logits (N) against 0/1 labels (N), numerically stable.</summary>
    public static Tensor BinaryCrossEntropy(Tensor logits, Tensor labels) => F.binary_cross_entropy_with_logits(logits, labels);

    /// <summary>
    /// Categorical cross-entropy on logits (N, K) against class indices (N), with optional per-class weights
    /// (weighted mean, as in PyTorch) and label smoothing ε (target = (1−ε)·onehot + ε/K).
    /// </summary>
    public static Tensor CategoricalCrossEntropy(Tensor logits, Tensor classes, Tensor? classWeights, double labelSmoothing)
        => F.cross_entropy(logits, classes, weight: classWeights, label_smoothing: labelSmoothing);
}

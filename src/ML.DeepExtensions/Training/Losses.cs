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

/// <summary>The loss functions, each returning the mean over the batch — weighted by example weights when given (Σ wᵢ·lᵢ / Σ wᵢ).</summary>
internal static class Losses
{
    /// <summary>The example-weighted mean of per-example losses; <paramref name="normalizers"/> (per example) replace the
    /// weights in the denominator when the per-example losses carry class weights (PyTorch's weighted mean).</summary>
    private static Tensor WeightedMean(Tensor perExample, Tensor weights, Tensor? normalizers = null)
        => (perExample * weights).sum() / (normalizers is null ? weights : normalizers * weights).sum().clamp_min(1e-12);

    /// <summary>Regression loss weighted per example (<paramref name="weights"/> (N) ≥ 0), or the plain mean when null.</summary>
    public static Tensor Regression(RegressionLoss kind, Tensor predictions, Tensor labels, Tensor? weights)
        => weights is null
            ? Regression(kind, predictions, labels)
            : WeightedMean(Regression(kind, predictions, labels, nn.Reduction.None), weights);

    /// <summary>Binary cross-entropy weighted per example, or the plain mean when <paramref name="weights"/> is null.</summary>
    public static Tensor BinaryCrossEntropy(Tensor logits, Tensor labels, Tensor? weights)
        => weights is null
            ? BinaryCrossEntropy(logits, labels)
            : WeightedMean(F.binary_cross_entropy_with_logits(logits, labels, reduction: nn.Reduction.None), weights);

    /// <summary>Categorical cross-entropy weighted per example (and per class), or as <see cref="CategoricalCrossEntropy(Tensor, Tensor, Tensor?, double)"/> when <paramref name="weights"/> is null.</summary>
    public static Tensor CategoricalCrossEntropy(Tensor logits, Tensor classes, Tensor? classWeights, double labelSmoothing, Tensor? weights)
    {
        if (weights is null)
            return CategoricalCrossEntropy(logits, classes, classWeights, labelSmoothing);
        var perExample = F.cross_entropy(logits, classes, weight: classWeights, reduction: nn.Reduction.None, label_smoothing: labelSmoothing);
        return WeightedMean(perExample, weights, classWeights?.index_select(0, classes));
    }

    /// <summary>Regression losses; <paramref name="predictions"/> and <paramref name="labels"/> are (N).</summary>
    public static Tensor Regression(RegressionLoss kind, Tensor predictions, Tensor labels) => Regression(kind, predictions, labels, nn.Reduction.Mean);

    /// <summary>A regression loss, the batch mean or (<see cref="nn.Reduction.None"/>) one value per example.</summary>
    private static Tensor Regression(RegressionLoss kind, Tensor predictions, Tensor labels, nn.Reduction reduction) => kind switch
    {
        RegressionLoss.MeanSquaredError => F.mse_loss(predictions, labels, reduction),
        RegressionLoss.MeanAbsoluteError => F.l1_loss(predictions, labels, reduction),
        RegressionLoss.Huber => F.huber_loss(predictions, labels, delta: 1.0, reduction: reduction),
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

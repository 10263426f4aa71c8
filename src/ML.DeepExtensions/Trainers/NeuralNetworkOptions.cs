using System;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Tasks;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions;

/// <summary>Options shared by the feature-vector network trainers.</summary>
public abstract class NeuralNetworkOptions : SupervisedTrainerOptions
{
    /// <summary>
    /// Feature column (default <c>Features</c>): a known-size vector of Single, Double, Byte, Int32, Int64,
    /// UInt32 or a UInt32 key (pixels and token ids need no conversion); values are fed as Single.
    /// </summary>
    public string FeatureColumnName { get; set; } = "Features";

    /// <summary>
    /// The shape each feature vector is fed to the network as, e.g. <c>[3, 32, 32]</c> for pixels extracted
    /// channel by channel; its product must equal the vector's length. Null feeds the flat vector (default).
    /// </summary>
    public int[]? InputShape { get; set; }

    /// <summary>
    /// The network body, fed one feature vector of length n as shape (n), or as <see cref="InputShape"/>. The trainer flattens a multi-dimensional body output and appends the
    /// output layer. Default: <see cref="Network.Mlp"/> with hidden layers of 128 and 64 units.
    /// </summary>
    public Network Network { get; set; } = Network.Mlp();

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Guard.NotEmpty(FeatureColumnName);
        Guard.NotNull(Network);
        ValidateInputShape(InputShape);
    }

    /// <summary>Throws unless <paramref name="shape"/> is null or positive dimensions.</summary>
    internal static void ValidateInputShape(int[]? shape)
    {
        if (shape is not null && (shape.Length == 0 || shape.Any(d => d <= 0)))
            throw new ArgumentOutOfRangeException(nameof(InputShape), $"InputShape must be positive dimensions. Received: InputShape=({string.Join(", ", shape)})");
    }
}

/// <summary>Options of <see cref="Trainers.NeuralNetworkRegressionTrainer"/>. Label: Single or Double.</summary>
public sealed class NeuralNetworkRegressionOptions : NeuralNetworkOptions
{
    /// <summary>Loss to minimise (default mean squared error).</summary>
    public RegressionLoss Loss { get; set; } = RegressionLoss.MeanSquaredError;

    internal override ObjectiveSettings Objective => new(RegressionLoss: Loss);

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Guard.Defined(Loss);
    }
}

/// <summary>Options of <see cref="Trainers.NeuralNetworkBinaryTrainer"/>. Label: Boolean. Loss: binary cross-entropy.</summary>
public sealed class NeuralNetworkBinaryOptions : NeuralNetworkOptions
{
}

/// <summary>Options of <see cref="Trainers.NeuralNetworkMulticlassTrainer"/>. Label: a key type. Loss: categorical cross-entropy.</summary>
public sealed class NeuralNetworkMulticlassOptions : NeuralNetworkOptions
{
    /// <summary>Per-class loss weights, one per key value in key order, each &gt; 0; null weighs classes equally (default).</summary>
    public float[]? ClassWeights { get; set; }

    /// <summary>Label smoothing ε in [0, 1): targets become (1−ε)·one-hot + ε/K (default 0).</summary>
    public double LabelSmoothing { get; set; }

    internal override ObjectiveSettings Objective => new(ClassWeights: ClassWeights, LabelSmoothing: LabelSmoothing);

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        ValidateMulticlass(ClassWeights, LabelSmoothing);
    }
}

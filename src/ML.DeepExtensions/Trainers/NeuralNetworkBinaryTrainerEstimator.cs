using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions.Trainers;

/// <summary>
/// The binary network trainer as an ML.NET <see cref="ITrainerEstimator{TTransformer, TModel}"/>: it trains exactly as
/// <see cref="NeuralNetworkBinaryTrainer"/> does and returns ML.NET's <see cref="BinaryPredictionTransformer{TModel}"/> over
/// <see cref="NeuralNetworkBinaryModelParameters"/>, so ML.NET's meta-trainers take it:
/// <c>mlContext.MulticlassClassification.Trainers.OneVersusAll(trainer.AsTrainerEstimator())</c> (and <c>PairwiseCoupling</c>).
/// Get it from <see cref="NeuralNetworkBinaryTrainer.AsTrainerEstimator"/>.
/// </summary>
/// <remarks>
/// The output columns are ML.NET's scorer's: <c>Score</c> (the logit), <c>Probability</c> (its sigmoid) and
/// <c>PredictedLabel</c> (Score &gt; 0); ML.NET's scorer scores one row at a time, so for large batch scoring prefer the
/// plain trainer's <see cref="NeuralNetworkTransformer"/>.
/// </remarks>
public sealed class NeuralNetworkBinaryTrainerEstimator : ITrainerEstimator<BinaryPredictionTransformer<NeuralNetworkBinaryModelParameters>, NeuralNetworkBinaryModelParameters>
{
    private readonly IHostEnvironment _env;
    private readonly NeuralNetworkBinaryTrainer _trainer;

    internal NeuralNetworkBinaryTrainerEstimator(IHostEnvironment env, NeuralNetworkBinaryTrainer trainer)
    {
        _env = env;
        _trainer = trainer;
    }

    /// <summary>The options of the wrapped trainer.</summary>
    public NeuralNetworkBinaryOptions Options => _trainer.Options;

    /// <summary>Needs no normalization or calibration from ML.NET (the network's sigmoid is its probability) and no caching.</summary>
    public TrainerInfo Info { get; } = new(normalization: false, calibration: false, caching: false, supportValid: false);

    /// <inheritdoc />
    public BinaryPredictionTransformer<NeuralNetworkBinaryModelParameters> Fit(IDataView input)
    {
        var network = _trainer.Fit(input);
        return new BinaryPredictionTransformer<NeuralNetworkBinaryModelParameters>(_env, new NeuralNetworkBinaryModelParameters(network), input.Schema,
            network.FeatureColumnName);
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => _trainer.GetOutputSchema(inputSchema);
}

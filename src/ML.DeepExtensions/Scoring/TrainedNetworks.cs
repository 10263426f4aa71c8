using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Scoring;

/// <summary>A fitted transformer that holds a trained network: its description and the metrics of its training epochs.</summary>
public interface ITrainedNetworkTransformer : ITransformer
{
    /// <summary>The whole network, including any output layer the trainer appended.</summary>
    Network Network { get; }

    /// <summary>Metrics of every training epoch (kept in the model zip).</summary>
    IReadOnlyList<EpochMetrics> History { get; }
}

/// <summary>Typed access to the trained network inside a fitted pipeline, however deeply its chains nest.</summary>
public static class TrainedNetworks
{
    /// <summary>
    /// The last transformer of type <typeparamref name="TNetwork"/> in <paramref name="model"/> (the model itself, or a step of
    /// its <c>TransformerChain</c>s, searched from the end), e.g. <c>model.GetNetwork&lt;NeuralNetworkTransformer&gt;().ClassNames</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model holds none; the message lists the steps it holds.</exception>
    public static TNetwork GetNetwork<TNetwork>(this ITransformer model) where TNetwork : class, ITrainedNetworkTransformer
    {
        Guard.NotNull(model);
        var steps = Steps(model).ToArray();
        return steps.OfType<TNetwork>().LastOrDefault()
            ?? throw new InvalidOperationException(
                $"The model holds no {typeof(TNetwork).Name}; expected a pipeline fitted with one of this library's trainers. Its steps: {string.Join(", ", steps.Select(s => s.GetType().Name))}.");
    }

    /// <summary>The epoch metrics of the last trained network in <paramref name="model"/> (see <see cref="GetNetwork{TNetwork}"/>).</summary>
    public static IReadOnlyList<EpochMetrics> GetTrainingHistory(this ITransformer model) => model.GetNetwork<ITrainedNetworkTransformer>().History;

    /// <summary>Every transformer in order, chains flattened.</summary>
    private static IEnumerable<ITransformer> Steps(ITransformer model)
        => model is IEnumerable<ITransformer> chain ? chain.SelectMany(Steps) : [model];
}

using Microsoft.ML;
using ML.DeepExtensions;
using Microsoft.ML.Data;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Scoring;

namespace Microsoft.ML;

/// <summary>
/// <c>mlContext.Transforms.ExtractNetworkFeatures(model)</c>: a trained network's activations before its
/// output layer as a <c>Features</c> column, so that any ML.NET trainer can learn on them.
/// </summary>
public static class NetworkFeaturesCatalog
{
    /// <summary>Adds the activations before <paramref name="model"/>'s output layer as a vector of Single.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="model">A trained network (its weights are copied; disposing it later is safe).</param>
    /// <param name="outputColumnName">The added column (default <c>Features</c>).</param>
    /// <param name="inputColumnName">The column fed to the network; default the model's own feature column.</param>
    public static NetworkFeaturesEstimator ExtractNetworkFeatures(this TransformsCatalog catalog, NeuralNetworkTransformer model,
        string outputColumnName = "Features", string? inputColumnName = null)
    {
        Guard.NotNull(catalog);
        Guard.NotNull(model);
        Guard.NotEmpty(outputColumnName);
        return new NetworkFeaturesEstimator(model.CreateFeatureExtractor(outputColumnName, inputColumnName ?? model.FeatureColumnName));
    }
}

/// <summary>Returns the feature extractor it was created with; fitting learns nothing.</summary>
public sealed class NetworkFeaturesEstimator : IEstimator<NeuralNetworkTransformer>
{
    private readonly NeuralNetworkTransformer _extractor;

    internal NetworkFeaturesEstimator(NeuralNetworkTransformer extractor) => _extractor = extractor;

    /// <inheritdoc />
    public NeuralNetworkTransformer Fit(IDataView input)
    {
        Guard.NotNull(input);
        _extractor.CheckInput(input.Schema);
        return _extractor;
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Guard.NotNull(inputSchema);
        SchemaChecks.FeatureVector(inputSchema, _extractor.FeatureColumnName);
        var columns = new System.Collections.Generic.Dictionary<string, SchemaShape.Column>();
        foreach (var column in inputSchema)
            columns[column.Name] = column;
        var name = _extractor.OutputColumns.Features;
        columns[name] = MLNetInternals.Column(name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(columns.Values);
    }
}

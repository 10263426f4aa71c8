using System;
using Microsoft.ML;

namespace ML.DeepExtensions.TestSupport.Contract;

/// <summary>
/// Puts a catalog method that returns an already fitted transformer (not an estimator) under the contract as it is:
/// <c>Fit</c> checks the input through the transformer's own <c>GetOutputSchema</c> and returns it; <c>GetOutputSchema</c>
/// on a schema shape has nothing to predict with and throws <see cref="NotSupportedException"/>, so the schema checks of
/// the contract fail until the method returns an estimator.
/// </summary>
public sealed class NotAnEstimator(ITransformer transformer, string method) : IEstimator<ITransformer>
{
    public ITransformer Fit(IDataView input)
    {
        transformer.GetOutputSchema(input.Schema);
        return transformer;
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        => throw new NotSupportedException(
            $"{method} returns a fitted {transformer.GetType().Name}, not an estimator: there is no GetOutputSchema(SchemaShape) to predict its output or reject a bad schema before fitting.");
}

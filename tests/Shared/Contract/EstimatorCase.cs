using System;
using Microsoft.ML;

namespace ML.DeepExtensions.TestSupport.Contract;

/// <summary>
/// One estimator under the contract (see <see cref="EstimatorContractTests"/>): a test project covers a new estimator by
/// adding one of these to its list.
/// </summary>
/// <param name="Name">Shown in the test name, e.g. <c>Regression.NeuralNetwork</c>.</param>
/// <param name="Create">The catalog call with valid options, small and fast (one epoch).</param>
/// <param name="Data">Small real data the estimator is fitted on and scores.</param>
/// <param name="InputColumns">Columns the estimator reads: each is removed, then given a wrong type, to make bad schemas.</param>
/// <param name="BadOptions">Invalid options the catalog call must reject, each with the option its error must name.</param>
public sealed record EstimatorCase(
    string Name,
    Func<MLContext, IEstimator<ITransformer>> Create,
    Func<MLContext, CaseData> Data,
    string[] InputColumns,
    BadOption[] BadOptions)
{
    public override string ToString() => Name;
}

/// <summary>
/// Data of a case. <paramref name="Raw"/> must be storable in an ML.NET binary file (the fresh process reads it from one);
/// <paramref name="Prepare"/>, when given, turns it into the estimator's input (e.g. <c>LoadImages</c>, <c>MapValueToKey</c>, a
/// tokenizer) and is saved and applied in the fresh process too.
/// </summary>
public sealed record CaseData(IDataView Raw, IEstimator<ITransformer>? Prepare = null);

/// <summary>A catalog call with an invalid <paramref name="Option"/>: it must throw an <see cref="ArgumentException"/> naming the option.</summary>
public sealed record BadOption(string Option, Func<MLContext, object> Create);

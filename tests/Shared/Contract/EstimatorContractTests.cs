using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Xunit;

namespace ML.DeepExtensions.TestSupport.Contract;

/// <summary>The estimators a test project puts under the contract: one <see cref="EstimatorCase"/> per estimator.</summary>
public interface IEstimatorCases
{
    static abstract IReadOnlyList<EstimatorCase> All { get; }
}

/// <summary>
/// The estimator contract, checked for every case of <typeparamref name="TCases"/> (each package's test project derives one
/// class from this and lists its estimators):
/// (a) <c>GetOutputSchema</c> predicts the fitted transformer's output schema: same columns, vector kind, item type, key-ness;
/// (b) a missing input column and an input column of a wrong type throw the same exception, with the same message, from
///     <c>GetOutputSchema</c> and from <c>Fit</c>, naming the column, what was expected and what was received;
/// (c) invalid options throw an <see cref="ArgumentException"/> naming the option at the catalog call, not later;
/// (d) the saved model, loaded in a fresh process (tests/ML.DeepExtensions.Probe), gives bit-identical output columns;
/// (e) a <c>PredictionEngine</c> gives what <c>Transform</c> gives, row by row (floating-point values within 1e-5);
/// (f) after fitting, scoring and disposing the fitted transformer (a chain disposes its members), the live-tensor count
///     of the thread is back where it was.
/// A check that fails states every problem it found, so one run lists what an estimator still lacks.
/// </summary>
/// <typeparam name="TCases">The deriving test class itself, which lists the cases.</typeparam>
public abstract class EstimatorContractTests<TCases> : IDisposable
    where TCases : IEstimatorCases
{
    private const int EngineRows = 8;
    private const double EngineTolerance = 1e-5;
    private readonly Lazy<string> _directory = new(() => Directory.CreateTempSubdirectory("mldx-contract-").FullName);

    public static TheoryData<string> Estimators => new(TCases.All.Select(c => c.Name));

    [Theory]
    [Trait("Category", "Contract")]
    [MemberData(nameof(Estimators))]
    public void GetOutputSchema_PredictsTheFittedSchema(string estimator)
    {
        var run = Setup(estimator);
        var trainer = run.Case.Create(run.MLContext);
        var predicted = trainer.GetOutputSchema(ContractValues.Shape(run.Input.Schema));
        var fitted = trainer.Fit(run.Input);
        try
        {
            var problems = ContractValues.Differences(predicted, ContractValues.Shape(fitted.GetOutputSchema(run.Input.Schema)));
            Assert.True(problems.Count == 0, Report(estimator, problems));
        }
        finally
        {
            DisposeIfPossible(fitted);
        }
    }

    [Theory]
    [Trait("Category", "Contract")]
    [MemberData(nameof(Estimators))]
    public void BadSchema_GivesTheSameClearErrorFromGetOutputSchemaAndFit(string estimator)
    {
        var run = Setup(estimator);
        var trainer = run.Case.Create(run.MLContext);
        var problems = new List<string>();
        Assert.NotEmpty(run.Case.InputColumns);
        foreach (var column in run.Case.InputColumns)
        {
            var missing = ContractValues.WithoutColumn(run.MLContext, run.Input, column);
            var available = missing.Schema.Where(c => !c.IsHidden).Select(c => c.Name).ToArray();
            Check($"column '{column}' missing", missing, message =>
            {
                var lacks = new List<string>();
                if (!message.Contains($"'{column}'", StringComparison.Ordinal))
                    lacks.Add($"the column '{column}'");
                var unnamed = available.Where(a => !message.Contains($"'{a}'", StringComparison.Ordinal)).ToArray();
                if (unnamed.Length > 0)
                    lacks.Add($"what it received: the available columns (not named: {string.Join(", ", unnamed.Select(a => $"'{a}'"))})");
                return lacks;
            });

            var (wrong, received) = ContractValues.WithWrongType(run.MLContext, run.Input, column);
            Check($"column '{column}' of type {received}", wrong, message =>
            {
                var lacks = new List<string>();
                if (!message.Contains($"'{column}'", StringComparison.Ordinal))
                    lacks.Add($"the column '{column}'");
                if (!message.Contains("expected", StringComparison.OrdinalIgnoreCase))
                    lacks.Add("what was expected");
                if (!message.Contains(received, StringComparison.Ordinal))
                    lacks.Add($"what was received ({received})");
                return lacks;
            });
        }
        Assert.True(problems.Count == 0, Report(estimator, problems));

        void Check(string what, IDataView bad, Func<string, List<string>> lacks)
        {
            var fromShape = Record.Exception(() => trainer.GetOutputSchema(ContractValues.Shape(bad.Schema)));
            var fromFit = Record.Exception(() => DisposeIfPossible(trainer.Fit(bad)));
            if (fromShape is null || fromFit is null)
            {
                if (fromShape is null)
                    problems.Add($"{what}: GetOutputSchema accepted the schema{(fromFit is null ? "" : $" (Fit threw {Describe(fromFit)})")}");
                if (fromFit is null)
                    problems.Add($"{what}: Fit accepted the data{(fromShape is null ? "" : $" (GetOutputSchema threw {Describe(fromShape)})")}");
                return;
            }
            if (fromShape.GetType() != fromFit.GetType() || fromShape.Message != fromFit.Message)
                problems.Add($"{what}: different errors\n      GetOutputSchema: {Describe(fromShape)}\n      Fit:             {Describe(fromFit)}");
            foreach (var (source, exception) in new[] { ("GetOutputSchema", fromShape), ("Fit", fromFit) })
            {
                foreach (var lack in lacks(exception.Message))
                    problems.Add($"{what}: the {source} message does not name {lack}: \"{exception.Message}\"");
            }
        }
    }

    [Theory]
    [Trait("Category", "Contract")]
    [MemberData(nameof(Estimators))]
    public void BadOptions_ThrowAtTheCatalogCall_NamingTheOption(string estimator)
    {
        var run = Setup(estimator);
        Assert.NotEmpty(run.Case.BadOptions);
        var problems = new List<string>();
        foreach (var bad in run.Case.BadOptions)
        {
            object? created = null;
            var exception = Record.Exception(() => created = bad.Create(run.MLContext));
            if (exception is null)
            {
                var late = created is IEstimator<ITransformer> accepted ? Record.Exception(() => DisposeIfPossible(accepted.Fit(run.Input))) : null;
                problems.Add($"{bad.Option}: the catalog call accepted it; " + (late is null ? "Fit accepted it too" : $"Fit threw later: {Describe(late)}"));
            }
            else if (exception is not ArgumentException)
            {
                problems.Add($"{bad.Option}: the catalog call threw {Describe(exception)}; expected an ArgumentException");
            }
            else if (!exception.Message.Contains(bad.Option, StringComparison.Ordinal))
            {
                problems.Add($"{bad.Option}: the message does not name the option: {Describe(exception)}");
            }
        }
        Assert.True(problems.Count == 0, Report(estimator, problems));
    }

    [Theory]
    [Trait("Category", "Contract")]
    [MemberData(nameof(Estimators))]
    public void SavedModel_LoadedInAFreshProcess_GivesBitIdenticalOutput(string estimator)
    {
        var run = Setup(estimator);
        var fitted = run.Case.Create(run.MLContext).Fit(run.Input);
        try
        {
            var scored = fitted.Transform(run.Input);
            var columns = ContractValues.AddedColumns(run.Input.Schema, scored.Schema);
            Assert.True(columns.Length > 0, $"{estimator}: the fitted transformer adds no column that can be compared");

            var directory = _directory.Value;
            var model = Path.Combine(directory, "model.zip");
            var input = Path.Combine(directory, "input.idv");
            var output = Path.Combine(directory, "output.idv");
            run.MLContext.Model.Save(fitted, run.Input.Schema, model);
            using (var stream = File.Create(input))
                run.MLContext.Data.SaveAsBinary(run.Data.Raw, stream, keepHidden: false);
            var arguments = new List<string> { "transform", model, input, output };
            if (run.Prepared is not null)
            {
                var prepare = Path.Combine(directory, "prepare.zip");
                run.MLContext.Model.Save(run.Prepared, run.Data.Raw.Schema, prepare);
                arguments.AddRange(["--prepare", prepare]);
            }
            arguments.AddRange(columns);

            var (exitCode, stdout, stderr) = ProbeRunner.Run(arguments.ToArray());
            Assert.True(exitCode == 0, $"{estimator}: the probe failed ({exitCode}): {stderr}\n{stdout}");
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var members = lines.Where(l => l.StartsWith("member: ", StringComparison.Ordinal)).Select(l => l["member: ".Length..]).ToArray();
            Assert.Equal(TypeNames(fitted), members.Length > 0 ? members : lines.Take(1).ToArray());

            var loaded = run.MLContext.Data.LoadFromBinary(output);
            var problems = columns
                .Select(c => (Column: c, Difference: ContractValues.FirstDifference(ContractValues.Cells(scored, c), ContractValues.Cells(loaded, c), ContractValues.SameBits)))
                .Where(p => p.Difference is not null)
                .Select(p => $"'{p.Column}' differs in the fresh process: {p.Difference}")
                .ToList();
            Assert.True(problems.Count == 0, Report(estimator, problems));
        }
        finally
        {
            DisposeIfPossible(fitted);
        }
    }

    [Theory]
    [Trait("Category", "Contract")]
    [MemberData(nameof(Estimators))]
    public void PredictionEngine_GivesWhatTransformGives(string estimator)
    {
        var run = Setup(estimator);
        var fitted = run.Case.Create(run.MLContext).Fit(run.Input);
        try
        {
            var scored = fitted.Transform(run.Input);
            var columns = ContractValues.AddedColumns(run.Input.Schema, scored.Schema);
            Assert.True(columns.Length > 0, $"{estimator}: the fitted transformer adds no column that can be compared");
            using var engine = EngineOn(run, fitted, columns);
            var predicted = engine.PredictEach(run.Prepared is null ? run.Input : run.Data.Raw, EngineRows);
            var problems = columns
                .Select(c => (Column: c, Difference: ContractValues.FirstDifference(ContractValues.Cells(scored, c, EngineRows), predicted[c],
                    (a, b) => ContractValues.Close(a, b, EngineTolerance))))
                .Where(p => p.Difference is not null)
                .Select(p => $"'{p.Column}' differs between Transform and PredictionEngine: {p.Difference}")
                .ToList();
            Assert.True(problems.Count == 0, Report(estimator, problems));
        }
        finally
        {
            DisposeIfPossible(fitted);
        }
    }

    [Theory]
    [Trait("Category", "Contract")]
    [MemberData(nameof(Estimators))]
    public void DisposingTheFittedModel_LeavesNoLiveTensors(string estimator)
    {
        var run = Setup(estimator);
        Cycle(); // warm-up: what the first fit in a process creates once (caches, generators) is not a leak
        var before = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var (type, disposable) = Cycle();
        var after = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after == before,
            $"{estimator}: {after - before} tensors are still live after fitting, scoring and disposing the fitted {type}" +
            (disposable ? "." : $", which is not IDisposable."));

        (string Type, bool Disposable) Cycle()
        {
            var fitted = run.Case.Create(run.MLContext).Fit(run.Input);
            var scored = fitted.Transform(run.Input);
            var columns = ContractValues.AddedColumns(run.Input.Schema, scored.Schema);
            foreach (var column in columns)
                ContractValues.Cells(scored, column);
            using (var engine = EngineOn(run, fitted, columns))
                engine.PredictEach(run.Prepared is null ? run.Input : run.Data.Raw, 2);
            var name = string.Join(", ", TypeNames(fitted).Select(n => n[(n.LastIndexOf('.') + 1)..]));
            return (fitted is IEnumerable<ITransformer> ? $"chain [{name}]" : name, DisposeIfPossible(fitted));
        }
    }

    public void Dispose()
    {
        if (_directory.IsValueCreated)
            Directory.Delete(_directory.Value, recursive: true);
        GC.SuppressFinalize(this);
    }

    private sealed record Run(EstimatorCase Case, MLContext MLContext, CaseData Data, ITransformer? Prepared, IDataView Input);

    private static Run Setup(string estimator)
    {
        var estimatorCase = TCases.All.Single(c => c.Name == estimator);
        var mlContext = new MLContext(seed: 1);
        var data = estimatorCase.Data(mlContext);
        var prepared = data.Prepare?.Fit(data.Raw);
        return new Run(estimatorCase, mlContext, data, prepared, prepared?.Transform(data.Raw) ?? data.Raw);
    }

    /// <summary>
    /// A prediction engine on the fitted transformer, after the case's preparation when it has one (rows of raw data in,
    /// as an application would use it). The chain made here is not disposed: it would dispose <paramref name="fitted"/>, which the caller owns.
    /// </summary>
    private static DynamicPredictionEngine EngineOn(Run run, ITransformer fitted, IReadOnlyList<string> columns)
        => run.Prepared is null
            ? new DynamicPredictionEngine(run.MLContext, fitted, run.Input.Schema, columns)
            : new DynamicPredictionEngine(run.MLContext, new Microsoft.ML.Data.TransformerChain<ITransformer>(run.Prepared, fitted), run.Data.Raw.Schema, columns);

    /// <summary>Type names of a transformer, or of every member of a chain.</summary>
    private static string[] TypeNames(ITransformer transformer)
        => transformer is IEnumerable<ITransformer> chain ? chain.Select(t => t.GetType().FullName!).ToArray() : [transformer.GetType().FullName!];

    private static bool DisposeIfPossible(ITransformer transformer)
    {
        if (transformer is not IDisposable disposable)
            return false;
        disposable.Dispose();
        return true;
    }

    private static string Describe(Exception exception) => $"{exception.GetType().Name}: \"{exception.Message}\"";

    private static string Report(string estimator, IReadOnlyCollection<string> problems)
        => $"{estimator}: {problems.Count} problem(s)\n  - " + string.Join("\n  - ", problems);
}

using Microsoft.ML;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Tasks;

namespace ML.DeepExtensions.Trainers;

/// <summary>
/// The feature-vector trainers: a <see cref="SupervisedNetworkTask"/> on the feature column, fitted by the
/// <see cref="FittingPipeline"/> and returned as a <see cref="NeuralNetworkTransformer"/>.
/// </summary>
/// <typeparam name="TOptions">The task's options.</typeparam>
public abstract class NeuralNetworkTrainerBase<TOptions> : IEstimator<NeuralNetworkTransformer>
    where TOptions : NeuralNetworkOptions
{
    private readonly IHost _host;
    private readonly TargetKind _kind;

    private protected NeuralNetworkTrainerBase(IHostEnvironment env, TOptions options, string name, TargetKind kind)
    {
        Guard.NotNull(env);
        Options = Guard.NotNull(options);
        options.Validate();
        _host = env.Register(name);
        _kind = kind;
    }

    /// <summary>The options this trainer was created with.</summary>
    public TOptions Options { get; }

    /// <inheritdoc />
    public NeuralNetworkTransformer Fit(IDataView input)
    {
        Guard.NotNull(input);
        var task = CreateTask();
        var fitted = FittingPipeline.Fit(_host, Options, task, input, Options.ValidationSet, Options.PretrainedWeights);
        return new NeuralNetworkTransformer(fitted.Model, task.Head(input.Schema), Options.FeatureColumnName, fitted.History, Options.ScoringBatchSize) { NumberOfThreads = Options.NumberOfThreads };
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => CreateTask().OutputSchema(Guard.NotNull(inputSchema));

    private SupervisedNetworkTask CreateTask()
        => new(_kind, Options.LabelColumnName, Options.FeatureColumnName, Options.Network, Options.InputShape, Options.Objective) { OutputNames = Options.OutputColumns, ExampleWeightColumn = Options.ExampleWeightColumnName };
}

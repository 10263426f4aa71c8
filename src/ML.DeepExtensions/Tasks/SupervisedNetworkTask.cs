using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tasks;

/// <summary>
/// A network from one numeric vector per row (features, pixels, token ids) to a label of a
/// <see cref="TargetKind"/>: the task behind the feature-vector trainers, the image classifier and the text
/// classifiers and regressor. The body is the user's (or the estimator's) network; the task flattens a
/// multi-dimensional body output and appends the output layer for the label's number of outputs.
/// </summary>
internal sealed class SupervisedNetworkTask : TrainingTask
{
    private readonly TargetKind _kind;
    private readonly string _labelColumn;
    private readonly string _featureColumn;
    private readonly Network _body;
    private readonly int[]? _inputShape;
    private readonly ObjectiveSettings _objective;
    private readonly string _featureRole;
    private int _outputs;

    /// <param name="kind">What is predicted.</param>
    /// <param name="labelColumn">The label column.</param>
    /// <param name="featureColumn">A known-size numeric vector column.</param>
    /// <param name="body">The network before the output layer.</param>
    /// <param name="inputShape">The shape each vector is fed as, or null for the flat vector.</param>
    /// <param name="objective">Loss settings.</param>
    /// <param name="featureRole">How the feature column is named in messages (e.g. "token-id" for text).</param>
    public SupervisedNetworkTask(TargetKind kind, string labelColumn, string featureColumn, Network body, int[]? inputShape,
        ObjectiveSettings objective, string featureRole = "feature")
    {
        _kind = kind;
        _labelColumn = labelColumn;
        _featureColumn = featureColumn;
        _body = body;
        _inputShape = inputShape;
        _objective = objective;
        _featureRole = featureRole;
    }

    /// <inheritdoc />
    public override TaskNetwork Plan(DataViewSchema training, DataViewSchema? validation)
    {
        var featureSize = SchemaChecks.FeatureVector(training, _featureColumn, role: _featureRole);
        var outputs = _kind.CheckLabel(training, _labelColumn);
        CheckWeight(training);
        if (validation is not null)
        {
            SchemaChecks.FeatureVector(validation, _featureColumn, featureSize, "validation " + _featureRole);
            if (_kind.CheckLabel(validation, _labelColumn, "validation label") != outputs)
                throw SchemaChecks.Mismatch("validation label", _labelColumn, SchemaChecks.Describe(training[_labelColumn].Type), validation[_labelColumn].Type);
        }
        _kind.CheckObjective(_objective, outputs, _labelColumn);
        _outputs = outputs;
        var inputShape = InputShapeFor(featureSize);
        return new TaskNetwork(WithHead(_body, inputShape, outputs), inputShape);
    }

    /// <inheritdoc />
    public override SchemaShape OutputSchema(SchemaShape input)
    {
        SchemaChecks.FeatureVector(input, _featureColumn, _featureRole);
        var label = _kind.CheckLabel(input, _labelColumn);
        CheckWeight(input);
        var columns = input.ToDictionary(c => c.Name);
        foreach (var column in _kind.OutputColumns(OutputNames, label))
            columns[column.Name] = column;
        return new SchemaShape(columns.Values);
    }

    /// <summary>Names of the prediction columns (set by the estimator before <see cref="OutputSchema"/>).</summary>
    public OutputColumnNames OutputNames { get; init; } = new();

    /// <summary>The example-weight column of the training data (a Single), or null.</summary>
    public string? ExampleWeightColumn { get; init; }

    /// <summary>A row's length for length bucketing (see <see cref="BatchSource.RowLength"/>), or null: batches drawn uniformly.</summary>
    public Func<ReadOnlyMemory<float>, int>? RowLength { get; init; }

    private const string WeightExpected = "Single";

    private void CheckWeight(DataViewSchema schema)
    {
        if (ExampleWeightColumn is not { } name)
            return;
        var column = SchemaChecks.Find(schema, "Example weight", name);
        if (column.Type != NumberDataViewType.Single)
            throw SchemaChecks.Mismatch("example weight", name, WeightExpected, column.Type);
    }

    private void CheckWeight(SchemaShape schema)
    {
        if (ExampleWeightColumn is not { } name)
            return;
        var column = SchemaChecks.Find(schema, "Example weight", name);
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType != NumberDataViewType.Single)
            throw SchemaChecks.Mismatch("example weight", name, WeightExpected, SchemaChecks.Describe(column));
    }

    /// <inheritdoc />
    public override BatchSource Read(IDataView data, Func<long, bool>? rows, string role, TrainerOptions options)
    {
        var featureSize = ((VectorDataViewType)data.Schema[_featureColumn].Type).Size;
        // Example weights shape the training loss only; validation metrics stay unweighted, like ML.NET's evaluators.
        var weights = role.StartsWith("training", StringComparison.Ordinal) ? ExampleWeightColumn : null;
        var reader = new ExampleReader(data, _featureColumn, featureSize, _labelColumn, _kind.LabelGetter(data.Schema[_labelColumn]), rows, weights);
        return BatchSource.Create(reader, _kind.LabelTensorType, options.DataLoading, options.MaxInMemoryBytes, options.ShuffleBufferRows, role, options.CancellationToken, RowLength);
    }

    /// <inheritdoc />
    public override TrainingObjective CreateObjective() => _kind.CreateObjective(_objective);

    /// <summary>The scoring head of the fitted network (after <see cref="Plan"/>), with the class names of <paramref name="training"/>'s label.</summary>
    public ScoringHead Head(DataViewSchema training)
        => new(_kind.Task, _outputs, _kind.ClassNames(training[_labelColumn]), OutputNames, _kind.ClassValueType(training[_labelColumn]));

    private int[] InputShapeFor(int featureSize)
    {
        if (_inputShape is not { } shape)
            return [featureSize];
        if (Shape.Size(shape) != featureSize)
            throw new ArgumentException(
                $"InputShape {Shape.Format(shape)} holds {Shape.Size(shape)} values but {_featureRole} column '{_featureColumn}' has vectors of {featureSize}; " +
                "their sizes must be equal.", "InputShape");
        return Shape.Copy(shape);
    }

    /// <summary>The body plus a flatten (when its output has several dimensions) and the output layer.</summary>
    private static Network WithHead(Network body, int[] inputShape, int outputs)
    {
        var bodyOutput = body.OutputShape(inputShape);
        var network = bodyOutput.Length > 1 ? body.Flatten() : body;
        return network.Dense(outputs);
    }
}

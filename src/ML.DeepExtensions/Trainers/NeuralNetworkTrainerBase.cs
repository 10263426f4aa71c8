using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;
using TorchSharp;

namespace ML.DeepExtensions.Trainers;

/// <summary>
/// Shared <c>Fit</c> of the feature-vector trainers: check the schema and options, read the data (bad values
/// are reported before training on the in-memory path), build the seeded network with its task head, run
/// the training engine and return the fitted <see cref="NeuralNetworkTransformer"/>.
/// </summary>
/// <typeparam name="TOptions">The task's options.</typeparam>
public abstract class NeuralNetworkTrainerBase<TOptions> : IEstimator<NeuralNetworkTransformer>
    where TOptions : NeuralNetworkOptions
{
    private readonly IHost _host;

    private protected NeuralNetworkTrainerBase(IHostEnvironment env, TOptions options, string name)
    {
        Guard.NotNull(env);
        Options = Guard.NotNull(options);
        options.Validate();
        _host = env.Register(name);
    }

    /// <summary>The options this trainer was created with.</summary>
    public TOptions Options { get; }

    private protected abstract NetworkTask Kind { get; }

    /// <summary>Checks the label column and returns the number of network outputs.</summary>
    private protected abstract int CheckLabel(DataViewSchema.Column label);

    /// <summary>Checks the label column of a schema shape (for <see cref="GetOutputSchema"/>).</summary>
    private protected abstract void CheckLabel(SchemaShape.Column label);

    private protected abstract LabelGetterFactory LabelGetter(DataViewSchema.Column label);

    private protected abstract TrainingObjective CreateObjective(int outputs);

    private protected virtual string[]? ClassNames(DataViewSchema.Column label) => null;

    /// <inheritdoc />
    public NeuralNetworkTransformer Fit(IDataView input)
    {
        Guard.NotNull(input);
        var options = Options;
        var featureSize = SchemaChecks.FeatureVector(input.Schema, options.FeatureColumnName);
        var label = SchemaChecks.Find(input.Schema, "Label", options.LabelColumnName);
        var outputs = CheckLabel(label);
        if (options.ValidationSet is { } validationSet)
        {
            SchemaChecks.FeatureVector(validationSet.Schema, options.FeatureColumnName, featureSize);
            var validationLabel = SchemaChecks.Find(validationSet.Schema, "Label", options.LabelColumnName);
            if (CheckLabel(validationLabel) != outputs)
                throw SchemaChecks.Mismatch("validation label", options.LabelColumnName, SchemaChecks.Describe(label.Type), validationLabel.Type);
        }

        var inputShape = InputShapeFor(featureSize);
        var network = WithHead(options.Network, inputShape, outputs);

        using var channel = _host.Start("Training");
        var settings = HostSettings.Read(_host);
        var seed = settings.Seed ?? Random.Shared.Next();
        var device = Devices.Select(settings, channel);

        var (training, validation) = ReadData(input, label, featureSize, seed, channel);
        var model = NetworkModel.Build(network, inputShape, seed, device);
        try
        {
            if (options.PretrainedWeights is { } pretrained)
            {
                var loaded = Pretrained.WeightTransfer.Apply(pretrained, model.Module, OutputLayerTensors, channel);
                channel.Info($"Loaded {loaded.BackboneTensors} tensors from '{pretrained.FilePath}'" +
                             $"{(loaded.HeadLoaded ? " including the output layer" : "; the output layer starts fresh")}.");
            }
            using var objectiveScope = torch.NewDisposeScope();
            var objective = CreateObjective(outputs);
            channel.Info($"Training on {device.type}: {training.Count?.ToString() ?? "streamed"} rows, " +
                         $"{validation?.Count?.ToString() ?? (validation is null ? "no" : "streamed")} validation rows; network of {model.Module.parameters().Sum(p => p.numel()):N0} parameters " +
                         $"(layers and shapes: the fitted transformer's Summary()).");
            var history = TrainingLoop.Run(new TrainingRequest(model.Module, model.Fingerprint, objective, training, validation, options, device, seed, channel, model.BackboneParameters(), inputShape));
            var head = new ScoringHead(Kind, outputs, ClassNames(label), options.OutputColumns);
            return new NeuralNetworkTransformer(model, head, options.FeatureColumnName, history, options.ScoringBatchSize);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>State tensors of the output layer the trainer appends (a Dense layer's weight and bias).</summary>
    private const int OutputLayerTensors = 2;

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Guard.NotNull(inputSchema);
        var options = Options;
        if (!inputSchema.TryFindColumn(options.FeatureColumnName, out var features))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Feature column '{options.FeatureColumnName}' not found in the input.");
        if (features.Kind != SchemaShape.Column.VectorKind.Vector || !FeatureVectors.IsAccepted(features.ItemType))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for feature column '{options.FeatureColumnName}': expected {FeatureVectors.AcceptedTypes}, got {features.GetTypeString()}.");
        if (!inputSchema.TryFindColumn(options.LabelColumnName, out var label))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Label column '{options.LabelColumnName}' not found in the input.");
        CheckLabel(label);

        var columns = inputSchema.ToDictionary(c => c.Name);
        var names = options.OutputColumns;
        const SchemaShape.Column.VectorKind Scalar = SchemaShape.Column.VectorKind.Scalar;
        switch (Kind)
        {
            case NetworkTask.Regression:
                columns[names.Score] = MLNetInternals.Column(names.Score, Scalar, NumberDataViewType.Single, false);
                break;
            case NetworkTask.BinaryClassification:
                columns[names.Score] = MLNetInternals.Column(names.Score, Scalar, NumberDataViewType.Single, false);
                columns[names.Probability] = MLNetInternals.Column(names.Probability, Scalar, NumberDataViewType.Single, false);
                columns[names.PredictedLabel] = MLNetInternals.Column(names.PredictedLabel, Scalar, BooleanDataViewType.Instance, false);
                break;
            default:
                columns[names.Score] = MLNetInternals.Column(names.Score, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
                columns[names.PredictedLabel] = MLNetInternals.Column(names.PredictedLabel, Scalar, NumberDataViewType.UInt32, true, label.Annotations);
                break;
        }
        return new SchemaShape(columns.Values);
    }

    private int[] InputShapeFor(int featureSize)
    {
        if (Options.InputShape is not { } shape)
            return [featureSize];
        if (Shape.Size(shape) != featureSize)
            throw new ArgumentException(
                $"InputShape {Shape.Format(shape)} holds {Shape.Size(shape)} values but feature column '{Options.FeatureColumnName}' has vectors of {featureSize}; " +
                "their sizes must be equal.", nameof(Options.InputShape));
        return Shape.Copy(shape);
    }

    /// <summary>The body plus a flatten (when its output has several dimensions) and the output layer.</summary>
    private static Network WithHead(Network body, int[] inputShape, int outputs)
    {
        var bodyOutput = body.OutputShape(inputShape);
        var network = bodyOutput.Length > 1 ? body.Flatten() : body;
        return network.Dense(outputs);
    }

    private (BatchSource Training, BatchSource? Validation) ReadData(IDataView input, DataViewSchema.Column label, int featureSize, int seed, IChannel channel)
    {
        var options = Options;
        var getLabel = LabelGetter(label);
        var labelType = CreateLabelType();
        var fraction = options.ValidationSet is null ? options.ValidationFraction : 0;
        Func<long, bool>? trainRows = fraction > 0 ? row => !ExampleReader.IsValidationRow(row, seed, fraction) : null;
        var trainReader = new ExampleReader(input, options.FeatureColumnName, featureSize, options.LabelColumnName, getLabel, trainRows);
        var training = BatchSource.Create(trainReader, labelType, options.DataLoading, options.MaxInMemoryBytes, options.ShuffleBufferRows, "training", options.CancellationToken);
        if (!training.InMemory)
            channel.Info("Training data is streamed: shuffling is within buffers of ShuffleBufferRows rows.");

        BatchSource? validation = null;
        if (options.ValidationSet is { } validationSet)
        {
            var reader = new ExampleReader(validationSet, options.FeatureColumnName, featureSize, options.LabelColumnName,
                LabelGetter(validationSet.Schema[options.LabelColumnName]));
            validation = BatchSource.Create(reader, labelType, options.DataLoading, options.MaxInMemoryBytes, options.ShuffleBufferRows, "validation", options.CancellationToken);
        }
        else if (fraction > 0)
        {
            var reader = new ExampleReader(input, options.FeatureColumnName, featureSize, options.LabelColumnName, getLabel,
                row => ExampleReader.IsValidationRow(row, seed, fraction));
            validation = BatchSource.Create(reader, labelType, options.DataLoading, options.MaxInMemoryBytes, options.ShuffleBufferRows, "validation (ValidationFraction)", options.CancellationToken);
        }
        return (training, validation);
    }

    private TorchSharp.torch.ScalarType CreateLabelType()
        => Kind == NetworkTask.MulticlassClassification ? TorchSharp.torch.ScalarType.Int64 : TorchSharp.torch.ScalarType.Float32;
}

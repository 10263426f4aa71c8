using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Tasks;

namespace ML.DeepExtensions.Vision.Classification;

/// <summary>
/// Trains a convolutional image classifier (a zoo architecture or any network) on an image column and a key
/// label. An <c>MLImage</c> column is resized to the architecture's size and its pixels extracted channel by
/// channel in [0, 1] by ML.NET's own <c>ResizeImages</c>/<c>ExtractPixels</c>, which become the first
/// transformers of the fitted chain, so scoring prepares images exactly as training did; normalisation
/// (the architecture's mean/std) and training-only augmentation are layers at the start of the network.
/// The chain adds <c>{image}.Resized</c>, <c>{image}.Pixels</c>, then <c>Score</c> and <c>PredictedLabel</c>.
/// </summary>
public sealed class CnnImageClassifierTrainer : IEstimator<TransformerChain<NeuralNetworkTransformer>>
{
    private readonly IHost _host;
    private readonly TransformsCatalog _transforms;

    internal CnnImageClassifierTrainer(IHostEnvironment env, CnnImageClassifierOptions options)
    {
        Guard.NotNull(env);
        Options = Guard.NotNull(options);
        options.Validate();
        _host = env.Register(nameof(CnnImageClassifierTrainer));
        _transforms = ML.DeepExtensions.Interop.MLNetInternals.Transforms(env);
    }

    /// <summary>The options this trainer was created with.</summary>
    public CnnImageClassifierOptions Options { get; }

    /// <inheritdoc />
    public TransformerChain<NeuralNetworkTransformer> Fit(IDataView input)
    {
        Guard.NotNull(input);
        var plan = Plan(input.Schema);
        if (Options.ValidationSet is { } validationSet)
            CheckImageColumn(validationSet.Schema, plan);
        var preprocessing = plan.Preprocessing?.Fit(input);
        var training = preprocessing?.Transform(input) ?? input;
        var validation = Options.ValidationSet is { } v ? preprocessing?.Transform(v) ?? v : null;
        var task = CreateTask(plan.PixelColumn, plan.Shape, plan.Network);
        var fitted = FittingPipeline.Fit(_host, Options, task, training, validation, Options.PretrainedWeights);
        var network = new NeuralNetworkTransformer(fitted.Model, task.Head(training.Schema), plan.PixelColumn, fitted.History, Options.ScoringBatchSize) { NumberOfThreads = Options.NumberOfThreads };
        var transformers = preprocessing is null ? Array.Empty<ITransformer>() : preprocessing.ToArray<ITransformer>();
        return new TransformerChain<NeuralNetworkTransformer>(transformers.Append(network).ToArray());
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Guard.NotNull(inputSchema);
        var image = ImageColumn.Check(inputSchema, Options.ImageColumnName);
        var shape = inputSchema;
        var pixels = Options.ImageColumnName;
        if (ImageColumn.IsImage(image))
        {
            var (channels, height, width) = ImageSize(Options.Contract);
            shape = Preprocessing(channels, height, width).GetOutputSchema(inputSchema);
            pixels = PixelColumnName;
        }
        return CreateTask(pixels, null, Options.Network).OutputSchema(shape);
    }

    private SupervisedNetworkTask CreateTask(string pixelColumn, int[]? shape, Network network)
        => new(TargetKind.Multiclass, Options.LabelColumnName, pixelColumn, network, shape, Options.Objective, featureRole: "pixel")
        {
            OutputNames = Options.OutputColumns,
            ExampleWeightColumn = Options.ExampleWeightColumnName,
        };

    private string ResizedColumnName => Options.ImageColumnName + ".Resized";

    private string PixelColumnName => Options.ImageColumnName + ".Pixels";

    private sealed record FitPlan(EstimatorChain<ITransformer>? Preprocessing, string PixelColumn, int[] Shape, Network Network, bool FromImages);

    /// <summary>Decides preprocessing, input shape and the full network from the schema; all errors before training.</summary>
    private FitPlan Plan(DataViewSchema schema)
    {
        var options = Options;
        var contract = options.Contract;
        var column = ImageColumn.Check(schema, options.ImageColumnName);
        int[] shape;
        EstimatorChain<ITransformer>? preprocessing = null;
        var pixels = options.ImageColumnName;
        if (column.Type is ImageDataViewType)
        {
            var (channels, height, width) = ImageSize(contract);
            shape = [channels, height, width];
            preprocessing = Preprocessing(channels, height, width);
            pixels = PixelColumnName;
        }
        else
        {
            var size = ((VectorDataViewType)column.Type).Size;
            shape = options.InputShape ?? (contract is null ? null : ContractShape(contract, size))
                ?? throw new ArgumentException(
                    $"Image column '{column.Name}' holds pixel vectors of {size} values; set InputShape to their (channels, height, width).", nameof(options.InputShape));
            if (shape.Length != 3 || Shape.Size(shape) != size)
                throw new ArgumentException(
                    $"InputShape {Shape.Format(shape)} does not describe the {size} pixels of image column '{column.Name}': expected (channels, height, width) with channels·height·width = {size}.",
                    nameof(options.InputShape));
            RejectResizing(column.Name, shape);
        }

        var network = Network.Create();
        network = options.Augmentation.BeforeNormalization(network);
        var (mean, std) = (options.Mean ?? contract?.Mean.ToArray(), options.Std ?? contract?.Std.ToArray());
        if (mean is not null && std is not null)
            network = network.Normalize(mean, std);
        network = options.Augmentation.AfterNormalization(network);
        network = new Network(network.Layers.Concat(options.Network.Layers).ToArray());
        return new FitPlan(preprocessing, pixels, shape, network, column.Type is ImageDataViewType);
    }

    /// <summary>Pixel vectors are not resized or converted: an image-size setting that disagrees with their shape is an error, not ignored.</summary>
    private void RejectResizing(string columnName, int[] shape)
    {
        foreach (var (name, value, actual) in new[] { (nameof(Options.Channels), Options.Channels, shape[0]), (nameof(Options.ImageHeight), Options.ImageHeight, shape[1]), (nameof(Options.ImageWidth), Options.ImageWidth, shape[2]) })
        {
            if (value is { } wanted && wanted != actual)
                throw new ArgumentException(
                    $"{name}={wanted} cannot apply to image column '{columnName}': it holds pixel vectors of shape {Shape.Format(shape)}, which are used as they are " +
                    $"(only images are resized). Expected {name} unset or {actual}; to resize, give the column as images (mlContext.Transforms.LoadImages) or resize before extracting pixels.",
                    name);
        }
    }

    private void CheckImageColumn(DataViewSchema schema, FitPlan plan)
    {
        var column = ImageColumn.Check(schema, Options.ImageColumnName, "validation image");
        var isImage = column.Type is ImageDataViewType;
        if (isImage != plan.FromImages)
            throw SchemaChecks.Mismatch("validation image", column.Name, plan.FromImages ? "an image like the training data's" : "pixels like the training data's", column.Type);
    }

    private static int[]? ContractShape(Zoo.VisionArchitecture contract, int size)
    {
        var channels = contract.Channels;
        if (size % channels != 0)
            return null;
        var side = (int)Math.Round(Math.Sqrt(size / channels));
        return side * side * channels == size ? [channels, side, side] : null;
    }

    private (int Channels, int Height, int Width) ImageSize(Zoo.VisionArchitecture? contract)
    {
        var options = Options;
        // A zoo architecture's channels: its stored parameter, else its parameter class's default (the contract's).
        var architectureChannels = contract is not null && options.Network.Layers[0] is ArchitectureLayer a
            ? new ArchitectureParameters(a.Parameters).GetInt("channels", contract.Channels) : (int?)null;
        var channels = options.Channels ?? architectureChannels ?? 3;
        var height = options.ImageHeight ?? contract?.Height
            ?? throw new ArgumentException("ImageHeight must be set: the network is not a zoo architecture, so it has no default image size.", nameof(options.ImageHeight));
        var width = options.ImageWidth ?? contract?.Width
            ?? throw new ArgumentException("ImageWidth must be set: the network is not a zoo architecture, so it has no default image size.", nameof(options.ImageWidth));
        return (channels, height, width);
    }

    private EstimatorChain<ITransformer> Preprocessing(int channels, int height, int width)
    {
        var transforms = _transforms;
        var chain = new EstimatorChain<ITransformer>()
            .Append<ITransformer>(transforms.ResizeImages(ResizedColumnName, width, height, Options.ImageColumnName, ImageResizingEstimator.ResizingKind.IsoPad));
        if (channels == 1)
        {
            return chain.Append<ITransformer>(transforms.ConvertToGrayscale(ResizedColumnName))
                .Append<ITransformer>(transforms.ExtractPixels(PixelColumnName, ResizedColumnName, ImagePixelExtractingEstimator.ColorBits.Red, interleavePixelColors: false, scaleImage: 1f / 255));
        }
        return chain.Append<ITransformer>(transforms.ExtractPixels(PixelColumnName, ResizedColumnName, ImagePixelExtractingEstimator.ColorBits.Rgb, interleavePixelColors: false, scaleImage: 1f / 255));
    }
}

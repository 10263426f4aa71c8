using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions.Vision.Classification;

/// <summary>
/// <c>mlContext.Transforms.ExtractImageFeatures(classifier)</c>: the classifier's image preparation followed by its network
/// without the output layer. Fitting learns nothing; it checks the image column and returns the extractor chain.
/// </summary>
public sealed class ImageFeaturesEstimator : IEstimator<TransformerChain<NeuralNetworkTransformer>>
{
    private const string PixelSuffix = ".Pixels";

    private readonly TransformerChain<NeuralNetworkTransformer> _extractor;

    internal ImageFeaturesEstimator(TransformerChain<NeuralNetworkTransformer> extractor)
    {
        _extractor = extractor;
        // With image preparation, the network reads "{image}.Pixels" (CnnImageClassifierTrainer's naming); otherwise the pixels directly.
        var pixels = extractor.LastTransformer.FeatureColumnName;
        ImageColumnName = extractor.First() is ImageResizingTransformer && pixels.EndsWith(PixelSuffix, System.StringComparison.Ordinal)
            ? pixels[..^PixelSuffix.Length]
            : pixels;
    }

    /// <summary>The image column the extractor reads (images, or pixel vectors when the classifier was trained on pixels).</summary>
    public string ImageColumnName { get; }

    /// <inheritdoc />
    public TransformerChain<NeuralNetworkTransformer> Fit(IDataView input)
    {
        Guard.NotNull(input);
        ImageColumn.Check(input.Schema, ImageColumnName);
        _extractor.GetOutputSchema(input.Schema);
        return _extractor;
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Guard.NotNull(inputSchema);
        var image = ImageColumn.Check(inputSchema, ImageColumnName);
        // The chain's added columns, computed on a schema holding only the image column (its type is all they depend on).
        var builder = new DataViewSchema.Builder();
        if (ImageColumn.IsImage(image))
            builder.AddColumn(ImageColumnName, image.ItemType);
        else
            builder.AddColumn(ImageColumnName, new VectorDataViewType((PrimitiveDataViewType)image.ItemType, _extractor.LastTransformer.FeatureSize));
        var added = MLNetInternals.Shape(_extractor.GetOutputSchema(builder.ToSchema())).Where(c => c.Name != ImageColumnName);
        var columns = inputSchema.ToDictionary(c => c.Name);
        foreach (var column in added)
            columns[column.Name] = column;
        return new SchemaShape(columns.Values);
    }
}

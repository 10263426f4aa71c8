using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.TestSupport.Contract;
using ML.DeepExtensions.Vision.Classification;
using ML.DeepExtensions.Vision.Zoo;

namespace ML.DeepExtensions.Vision.Tests.Contract;

/// <summary>The estimator contract (tests/Shared/Contract) over the Vision package's estimators: one line per estimator.</summary>
public sealed class VisionContractTests : EstimatorContractTests<VisionContractTests>, IEstimatorCases
{
    public static IReadOnlyList<EstimatorCase> All { get; } =
    [
        new("MulticlassClassification.CnnImageClassifier", ml => ml.MulticlassClassification.Trainers.CnnImageClassifier(Small()), FashionImages, ["Image", "Label"], [new("Channels", ml => ml.MulticlassClassification.Trainers.CnnImageClassifier(new CnnImageClassifierOptions { Channels = 2 })), new("ImageHeight", ml => ml.MulticlassClassification.Trainers.CnnImageClassifier(new CnnImageClassifierOptions { ImageHeight = 0 }))]),
        new("Transforms.ExtractImageFeatures", ml => { using var classifier = Classifier(ml); return ml.Transforms.ExtractImageFeatures(classifier); }, FashionImages, ["Image"], [new("outputColumnName", ml => { using var classifier = Classifier(ml); return ml.Transforms.ExtractImageFeatures(classifier, outputColumnName: ""); })]),
    ];

    /// <summary>A half-width LeNet-5 on 28×28 grey images with training-only augmentation, one epoch.</summary>
    private static CnnImageClassifierOptions Small() => new()
    {
        Network = VisionArchitectures.LeNet5(width: 0.5),
        ImageHeight = 28,
        ImageWidth = 28,
        Epochs = 1,
        BatchSize = 16,
        Augmentation = new ImageAugmentation { CropPadding = 2, HorizontalFlip = true },
    };

    /// <summary>50 Fashion-MNIST training PNGs (5 per class): Image (MLImage, by LoadImages) and Label (key over the ten class names).</summary>
    private static CaseData FashionImages(MLContext mlContext)
    {
        var classes = mlContext.Data.LoadFromEnumerable(VisionTestData.Files("train", 1).Select(f => new ClassName { Category = f.Category }));
        return new CaseData(
            mlContext.Data.LoadFromEnumerable(VisionTestData.Files("train", perClass: 5)),
            mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ImageFile.Category), keyData: classes)
                .Append(mlContext.Transforms.LoadImages("Image", null, nameof(ImageFile.ImagePath))));
    }

    /// <summary>The classifier chain the feature extractor is made from (the extractor copies its weights, so the caller disposes it).</summary>
    private static TransformerChain<NeuralNetworkTransformer> Classifier(MLContext mlContext)
    {
        var data = FashionImages(mlContext);
        return mlContext.MulticlassClassification.Trainers.CnnImageClassifier(Small()).Fit(data.Prepare!.Fit(data.Raw).Transform(data.Raw));
    }
}

using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.TestSupport.Contract;
using ML.DeepExtensions.Vision.Classification;
using ML.DeepExtensions.Vision.Detection;
using ML.DeepExtensions.Vision.Zoo;

namespace ML.DeepExtensions.Vision.Tests.Contract;

/// <summary>The estimator contract (tests/Shared/Contract) over the Vision package's estimators: one line per estimator.</summary>
public sealed class VisionContractTests : EstimatorContractTests<VisionContractTests>, IEstimatorCases
{
    public static IReadOnlyList<EstimatorCase> All { get; } =
    [
        new("MulticlassClassification.CnnImageClassifier", ml => ml.MulticlassClassification.Trainers.CnnImageClassifier(Small()), FashionImages, ["Image", "Label"], [new("Channels", ml => ml.MulticlassClassification.Trainers.CnnImageClassifier(new CnnImageClassifierOptions { Channels = 2 })), new("ImageHeight", ml => ml.MulticlassClassification.Trainers.CnnImageClassifier(new CnnImageClassifierOptions { ImageHeight = 0 }))]),
        new("MulticlassClassification.ObjectDetector", ml => ml.MulticlassClassification.Trainers.ObjectDetector(SmallDetector()), DetectionCanvases, ["Image", "Label", "Box"], [new("ImageSize", ml => ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions { ImageSize = 60 })), new("MaxDetections", ml => ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions { MaxDetections = 0 }))]),
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

    /// <summary>A quarter-width detector at 64 px, one epoch, a low score threshold so that the outputs are not empty.</summary>
    private static ObjectDetectorOptions SmallDetector() => new()
    {
        Epochs = 1,
        BatchSize = 8,
        ImageSize = 64,
        ScoreThreshold = 0.01,
        MaxDetections = 5,
        Architecture = new AnchorFreeDetectorParameters { Width = 0.25 },
    };

    /// <summary>16 seeded detection canvases written once as PNG files: ImagePath, Labels (class names) and Box; prepared
    /// into Image (LoadImages) and Label (keys over four class names).</summary>
    private static CaseData DetectionCanvases(MLContext mlContext)
    {
        var rows = CanvasFiles.Value;
        var classes = mlContext.Data.LoadFromEnumerable(new[] { "Trouser", "Bag", "Sneaker", "T-shirt" }.Select(c => new LabelName { Labels = c }));
        return new CaseData(
            mlContext.Data.LoadFromEnumerable(rows),
            mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(CanvasFile.Labels), keyData: classes)
                .Append(mlContext.Transforms.LoadImages("Image", null, nameof(CanvasFile.ImagePath))));
    }

    private static readonly System.Lazy<CanvasFile[]> CanvasFiles = new(() =>
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("contract-canvases-").FullName;
        return Detection.DetectionTestData.Canvases.Generate("train", 16, 3, ["Trouser", "Bag", "Sneaker", "T-shirt"]).Select((c, i) =>
        {
            var path = System.IO.Path.Combine(dir, $"{i}.png");
            c.Image.Save(path);
            return new CanvasFile { ImagePath = path, Labels = c.Labels, Box = c.Box };
        }).ToArray();
    });

    private sealed class CanvasFile
    {
        public string ImagePath { get; set; } = "";

        public string[] Labels { get; set; } = [];

        public float[] Box { get; set; } = [];
    }

    private sealed class LabelName
    {
        public string Labels { get; set; } = "";
    }
}

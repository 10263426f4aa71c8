using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.TestSupport;
using ML.DeepExtensions.Vision.Classification;
using ML.DeepExtensions.Vision.Zoo;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Vision.Tests.Classification;

public class CnnImageClassifierTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Accuracy")]
    [Trait("Category", "Slow")]
    public void LeNet5_OnRealFashionImages_EarnsTheStatedAccuracy_AndWorksWithTheEvaluator()
    {
        var mlContext = new MLContext(1);
        var train = VisionTestData.Images(mlContext, "train");
        var test = VisionTestData.Images(mlContext, "test");
        var options = new CnnImageClassifierOptions
        {
            Network = VisionArchitectures.LeNet5(),
            ImageHeight = 28,
            ImageWidth = 28,
            Epochs = 15,
            BatchSize = 32,
            LearningRate = 2e-3,
        };
        var clock = Stopwatch.StartNew();
        var model = mlContext.MulticlassClassification.Trainers.CnnImageClassifier(options).Fit(train);
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(test));
        output.WriteLine($"LeNet5, 1,000 Fashion-MNIST images, 15 epochs in {clock.Elapsed.TotalSeconds:F1} s: test accuracy {metrics.MicroAccuracy:P2}, macro {metrics.MacroAccuracy:P2}");
        Assert.True(metrics.MicroAccuracy >= 0.75, $"test accuracy {metrics.MicroAccuracy:P2} < 75 %");
        Assert.Equal(new[] { 1, 28, 28 }, model.LastTransformer.InputShape);
    }
}

public class CnnImageClassifierBehaviourTests
{
    private static CnnImageClassifierOptions Quick(int epochs = 2) => new()
    {
        Network = VisionArchitectures.LeNet5(width: 0.5),
        ImageHeight = 28,
        ImageWidth = 28,
        Epochs = epochs,
        BatchSize = 32,
        Augmentation = new ImageAugmentation { CropPadding = 2, HorizontalFlip = true, ErasingProbability = 0.5 },
    };

    [Fact]
    public void SaveThenLoad_InAFreshProcess_GivesBitIdenticalScores_AndPredictionEngineAgrees()
    {
        var mlContext = new MLContext(2);
        var train = VisionTestData.Images(mlContext, "train", perClass: 20);
        var test = VisionTestData.Images(mlContext, "test", perClass: 3);
        var model = mlContext.MulticlassClassification.Trainers.CnnImageClassifier(Quick()).Fit(train);
        var scores = model.Transform(test).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        // Augmentation is training-only: scoring twice gives the same numbers.
        Assert.Equal(scores, model.Transform(test).GetColumn<float[]>("Score").SelectMany(s => s).ToArray());

        var engine = mlContext.Model.CreatePredictionEngine<ImageFile, ScoreRow>(
            mlContext.Transforms.LoadImages("Image", null, nameof(ImageFile.ImagePath)).Fit(mlContext.Data.LoadFromEnumerable(VisionTestData.Files("test", 1))).Append(model));
        var first = engine.Predict(VisionTestData.Files("test", 3)[0]);
        Assert.Equal(scores.Take(10).ToArray(), first.Score, new FloatTolerance(1e-5f));

        var dir = Directory.CreateTempSubdirectory("mldx-vision-").FullName;
        try
        {
            var zip = Path.Combine(dir, "model.zip");
            mlContext.Model.Save(model, test.Schema, zip);
            var list = Path.Combine(dir, "images.txt");
            File.WriteAllLines(list, VisionTestData.Files("test", 3).Select(f => f.ImagePath));
            var outFile = Path.Combine(dir, "scores.bin");
            var (exit, stdout, stderr) = ProbeRunner.Run("images", zip, list, outFile);
            Assert.True(exit == 0, stderr);
            Assert.Contains("TransformerChain", stdout);
            Assert.Equal(scores, ProbeRunner.ReadScores(outFile));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void PixelVectorColumn_WithDeclaredShape_Trains_AndFeaturesCanBeExtracted()
    {
        var mlContext = new MLContext(2);
        var images = VisionTestData.Images(mlContext, "train", perClass: 20);
        var pixels = mlContext.Transforms.ResizeImages("Sized", 28, 28, "Image")
            .Append(mlContext.Transforms.ExtractPixels("Pixels", "Sized", Microsoft.ML.Transforms.Image.ImagePixelExtractingEstimator.ColorBits.Red, scaleImage: 1f / 255))
            .Fit(images).Transform(images);
        var options = Quick(1);
        options.ImageColumnName = "Pixels";
        options.InputShape = [1, 28, 28];
        var model = mlContext.MulticlassClassification.Trainers.CnnImageClassifier(options).Fit(pixels);
        Assert.Single(model); // no preprocessing: the pixels go straight in
        var features = mlContext.Transforms.ExtractImageFeatures(model, "Embedding").Fit(pixels).Transform(pixels);
        var embedding = features.GetColumn<float[]>("Embedding").First();
        Assert.Equal(42, embedding.Length); // LeNet5 at width 0.5: Dense(84 × 0.5)
    }

    [Theory]
    [InlineData("ImageHeight")]
    [InlineData("ImageWidth")]
    [InlineData("Channels")]
    public void PixelVectorColumn_WithAnImageSizeItCannotHave_IsRejectedNotIgnored(string setting)
    {
        var mlContext = new MLContext(2);
        var images = VisionTestData.Images(mlContext, "train", perClass: 2);
        var pixels = mlContext.Transforms.ResizeImages("Sized", 28, 28, "Image")
            .Append(mlContext.Transforms.ExtractPixels("Pixels", "Sized", Microsoft.ML.Transforms.Image.ImagePixelExtractingEstimator.ColorBits.Red, scaleImage: 1f / 255))
            .Fit(images).Transform(images);
        var options = Quick(1);
        options.ImageColumnName = "Pixels";
        options.InputShape = [1, 28, 28];
        _ = setting switch
        {
            "ImageHeight" => options.ImageHeight = 32,
            "ImageWidth" => options.ImageWidth = 32,
            _ => options.Channels = 3,
        };
        var ex = Assert.Throws<ArgumentException>(() => mlContext.MulticlassClassification.Trainers.CnnImageClassifier(options).Fit(pixels));
        Assert.Equal(setting, ex.ParamName);
        Assert.Contains("'Pixels'", ex.Message);
        Assert.Contains("(1, 28, 28)", ex.Message);
    }

    [Fact]
    public void ImageColumnOfText_IsRejectedWithWhatWasExpected()
    {
        var mlContext = new MLContext(1);
        var files = mlContext.Data.LoadFromEnumerable(VisionTestData.Files("train", 2));
        var data = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ImageFile.Category)).Fit(files).Transform(files);
        var options = Quick();
        options.ImageColumnName = nameof(ImageFile.ImagePath);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.MulticlassClassification.Trainers.CnnImageClassifier(options).Fit(data));
        Assert.Contains("'ImagePath'", ex.Message);
        Assert.Contains("LoadImages", ex.Message);
        Assert.Contains("String", ex.Message);
    }

    [Fact]
    public void LabelThatIsNotAKey_IsRejectedBeforeTraining()
    {
        var mlContext = new MLContext(1);
        var files = mlContext.Data.LoadFromEnumerable(VisionTestData.Files("train", 2));
        var data = mlContext.Transforms.LoadImages("Image", null, nameof(ImageFile.ImagePath)).Fit(files).Transform(files);
        var options = Quick();
        options.LabelColumnName = nameof(ImageFile.Category);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.MulticlassClassification.Trainers.CnnImageClassifier(options).Fit(data));
        Assert.Contains("'Category'", ex.Message);
        Assert.Contains("MapValueToKey", ex.Message);
    }

    [Fact]
    public void ImagesTooSmallForTheArchitecture_AreRejectedBeforeTraining_NamingTheMinimum()
    {
        var mlContext = new MLContext(1);
        var data = VisionTestData.Images(mlContext, "train", perClass: 2);
        var options = Quick();
        options.Network = VisionArchitectures.LeNet5();
        options.ImageHeight = 12;
        options.ImageWidth = 12;
        var ex = Assert.ThrowsAny<Exception>(() => mlContext.MulticlassClassification.Trainers.CnnImageClassifier(options).Fit(data));
        Assert.Contains("LeNet5", ex.Message);
        Assert.Contains("16", ex.Message);
    }

    [Fact]
    public void PixelsWithTheWrongChannelCount_ForAThreeChannelArchitecture_AreRejected()
    {
        var mlContext = new MLContext(1);
        var images = VisionTestData.Images(mlContext, "train", perClass: 2);
        var pixels = mlContext.Transforms.ResizeImages("Small", 32, 32, "Image")
            .Append(mlContext.Transforms.ExtractPixels("Pixels", "Small", Microsoft.ML.Transforms.Image.ImagePixelExtractingEstimator.ColorBits.Red))
            .Fit(images).Transform(images);
        var options = Quick();
        options.Network = VisionArchitectures.ResNet18(width: 0.125, smallInput: true);
        options.ImageColumnName = "Pixels";
        options.InputShape = [1, 32, 32];
        (options.ImageHeight, options.ImageWidth) = (null, null); // pixel vectors are not resized
        var ex = Assert.ThrowsAny<Exception>(() => mlContext.MulticlassClassification.Trainers.CnnImageClassifier(options).Fit(pixels));
        Assert.Contains("channel", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("3", ex.Message);
    }

    [Fact]
    public void UnreadableImageFile_FailsWithAMessageNamingTheFile()
    {
        var mlContext = new MLContext(1);
        var dir = Directory.CreateTempSubdirectory("mldx-bad-image-").FullName;
        try
        {
            var good = VisionTestData.Files("train", 3);
            var bad = Path.Combine(dir, "not-an-image.png");
            File.WriteAllBytes(bad, [0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4]);
            var rows = good.Append(new ImageFile { ImagePath = bad, Category = "Bag" }).ToArray();
            var files = mlContext.Data.LoadFromEnumerable(rows);
            var data = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ImageFile.Category))
                .Append(mlContext.Transforms.LoadImages("Image", null, nameof(ImageFile.ImagePath))).Fit(files).Transform(files);
            var ex = Assert.ThrowsAny<Exception>(() => mlContext.MulticlassClassification.Trainers.CnnImageClassifier(Quick()).Fit(data));
            var messages = string.Join(" | ", Flatten(ex).Select(e => e.Message));
            Assert.Contains("not-an-image.png", messages);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static System.Collections.Generic.IEnumerable<Exception> Flatten(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
            yield return e;
    }
}

internal sealed class ScoreRow
{
    public float[] Score { get; set; } = [];
}

internal sealed class FloatTolerance(float tolerance) : System.Collections.Generic.IEqualityComparer<float>
{
    public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

    public int GetHashCode(float obj) => 0;
}

using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Vision.Classification;
using ML.DeepExtensions.Vision.Zoo;
using Xunit;

namespace ML.DeepExtensions.Vision.Tests.Reliability;

/// <summary>Issue 10: an image file that cannot be decoded is reported with its row and file, in training and in scoring.</summary>
[Trait("Category", "Reliability")]
public class CorruptImageTests
{
    private static CnnImageClassifierOptions Tiny() => new()
    {
        Network = VisionArchitectures.LeNet5(width: 0.25),
        ImageHeight = 28,
        ImageWidth = 28,
        Epochs = 1,
    };

    [Fact]
    public void CorruptImageFile_WhenScoring_IsReportedWithItsRowAndPath()
    {
        var mlContext = new MLContext(seed: 1);
        using var model = mlContext.MulticlassClassification.Trainers.CnnImageClassifier(Tiny()).Fit(VisionTestData.Images(mlContext, "train", perClass: 2));

        var directory = Directory.CreateTempSubdirectory("mldx-corrupt-");
        try
        {
            var good = VisionTestData.Files("test", 1).Take(3).ToArray();
            var broken = Path.Combine(directory.FullName, "broken.png");
            File.WriteAllBytes(broken, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]); // a PNG signature and nothing decodable
            var files = good.Select(f => f.ImagePath).Append(broken).ToArray();
            var data = mlContext.Transforms.LoadImages("Image", null, nameof(ImageFile.ImagePath))
                .Fit(mlContext.Data.LoadFromEnumerable(files.Select(f => new ImageFile { ImagePath = f })))
                .Transform(mlContext.Data.LoadFromEnumerable(files.Select(f => new ImageFile { ImagePath = f })));

            var error = Assert.ThrowsAny<Exception>(() => model.Transform(data).GetColumn<uint>("PredictedLabel").ToArray());
            var message = error is InvalidDataException ? error.Message : error.ToString();
            Assert.True(error is InvalidDataException, error.ToString());
            Assert.Contains("row 3", message);
            Assert.Contains("broken.png", message);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}

using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.TestSupport;
using Xunit;

namespace ML.DeepExtensions.Vision.Tests.Persistence;

/// <summary>
/// Image-classifier zips saved by the code of model format v1 (tests/fixtures/model-format-v1, see its README) must keep
/// loading with a plain <c>mlContext.Model.Load</c> and score their recorded inputs bit for bit: one on pixel vectors with
/// augmentation and normalization layers before a zoo architecture, one whose chain starts from image files.
/// </summary>
[Trait("Category", "Persistence")]
public sealed class LegacyModelFormatTests : IDisposable
{
    private static readonly string[] Tested = ["image-cnn", "image-mlimage"];
    private readonly string _directory = Directory.CreateTempSubdirectory("mldx-legacy-images-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void PixelVectorClassifierSavedByFormatV1_LoadsAndScoresBitIdentically()
    {
        const string fixture = "image-cnn";
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(ModelFormatFixtures.Zip(fixture), out _);
        ModelFormatFixtures.AssertLoadedType(fixture, model);
        ModelFormatFixtures.AssertOutputs(fixture, model.Transform(ModelFormatFixtures.Inputs(mlContext, fixture)));
    }

    [Fact]
    public void ImageFileClassifierSavedByFormatV1_LoadsAndScoresTheSamePngFilesBitIdentically()
    {
        const string fixture = "image-mlimage";
        var pngs = ModelFormatFixtures.Strings(ModelFormatFixtures.Fixture(fixture).GetProperty("inputs").GetProperty("Image").GetProperty("values"));
        var files = pngs.Select((png, i) =>
        {
            var path = Path.Combine(_directory, $"{i:D2}.png");
            File.WriteAllBytes(path, Convert.FromBase64String(png));
            return new ImageFile { ImagePath = path };
        }).ToArray();
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(files);
        var images = mlContext.Transforms.LoadImages("Image", null, nameof(ImageFile.ImagePath)).Fit(data).Transform(data);

        var model = mlContext.Model.Load(ModelFormatFixtures.Zip(fixture), out _);
        ModelFormatFixtures.AssertLoadedType(fixture, model);
        ModelFormatFixtures.AssertOutputs(fixture, model.Transform(images));
    }

    [Fact]
    public void EveryImageFixture_IsCheckedByThisClass()
        => Assert.Equal(Tested, ModelFormatFixtures.NamesFor("ML.DeepExtensions.Vision.Tests"));
}

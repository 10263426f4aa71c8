using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Vision.Classification;
using ML.DeepExtensions.Vision.Zoo;
using Xunit;

namespace ML.DeepExtensions.PublicApi.Tests;

public class VisionPublicApiTests
{
    [Fact]
    public void CnnImageClassifier_OnFashionImages_TrainsSavesLoadsAndPredicts_ThroughThePublicApiOnly()
    {
        var mlContext = new MLContext(seed: 1);
        var train = mlContext.Data.LoadFromEnumerable(Images("train", perClass: 20));
        var test = Images("test", perClass: 2);
        var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ImageInput.Category))
            .Append(mlContext.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageInput.ImagePath)))
            .Append(mlContext.MulticlassClassification.Trainers.CnnImageClassifier(new CnnImageClassifierOptions
            {
                Network = VisionArchitectures.LeNet5(width: 0.5),
                ImageHeight = 28,
                ImageWidth = 28,
                Epochs = 2,
                BatchSize = 32,
            }))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedCategory", "PredictedLabel"));
        var model = pipeline.Fit(train);

        var network = model.OfType<TransformerChain<NeuralNetworkTransformer>>().Single().LastTransformer;
        Assert.Equal(NetworkTask.MulticlassClassification, network.Kind);
        Assert.Equal(2, network.History.Count);
        var classes = Directory.GetDirectories(RepoData.Path("data/fashion-mnist/train")).Select(Path.GetFileName).ToArray();
        Assert.Equal(classes.Order(), network.ClassNames!.Order());
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(mlContext.Data.LoadFromEnumerable(test)));
        Assert.InRange(metrics.MicroAccuracy, 0, 1);

        using var directory = RepoData.Temporary();
        var path = directory.File("fashion-classifier.zip");
        mlContext.Model.Save(model, train.Schema, path);
        var fresh = new MLContext();
        var loaded = fresh.Model.Load(path, out _);
        using var before = mlContext.Model.CreatePredictionEngine<ImageInput, ImagePrediction>(model);
        using var after = fresh.Model.CreatePredictionEngine<ImageInput, ImagePrediction>(loaded);
        foreach (var image in test)
        {
            var expected = before.Predict(image);
            var actual = after.Predict(image);
            Assert.Equal(expected.Score, actual.Score);
            Assert.Equal(expected.PredictedCategory, actual.PredictedCategory);
            Assert.Contains(actual.PredictedCategory, classes);
            Assert.Equal(1f, actual.Score.Sum(), 3);
        }
    }

    private static ImageInput[] Images(string split, int perClass)
        => Directory.GetDirectories(RepoData.Path(Path.Combine("data", "fashion-mnist", split)))
            .Order()
            .SelectMany(d => Directory.GetFiles(d, "*.png").Order().Take(perClass).Select(f => new ImageInput { ImagePath = f, Category = Path.GetFileName(d) }))
            .ToArray();

    public sealed class ImageInput
    {
        public string ImagePath { get; set; } = "";

        public string Category { get; set; } = "";
    }

    public sealed class ImagePrediction
    {
        public float[] Score { get; set; } = [];

        public string PredictedCategory { get; set; } = "";
    }
}

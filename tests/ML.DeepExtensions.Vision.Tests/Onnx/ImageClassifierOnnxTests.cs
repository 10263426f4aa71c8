using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ML.DeepExtensions.Vision.Classification;
using ML.DeepExtensions.Vision.Zoo;
using Xunit;

namespace ML.DeepExtensions.Vision.Tests.Onnx;

/// <summary>A CnnImageClassifier trained on real Fashion-MNIST images: its network exports and scores like the chain; ML.NET's
/// converter cannot export the image steps and says so instead of writing a graph without the network.</summary>
public class ImageClassifierOnnxTests
{
    [Fact]
    public void CnnImageClassifier_LastTransformerExportToOnnx_ScoresLikeTheChain_AndConvertToOnnxNamesOurStep()
    {
        var mlContext = new MLContext(2);
        var train = VisionTestData.Images(mlContext, "train", perClass: 20);
        var test = VisionTestData.Images(mlContext, "test", perClass: 3);
        var model = mlContext.MulticlassClassification.Trainers.CnnImageClassifier(new CnnImageClassifierOptions
        {
            Network = VisionArchitectures.LeNet5(width: 0.5),
            ImageHeight = 28,
            ImageWidth = 28,
            Epochs = 2,
            BatchSize = 32,
            Augmentation = new ImageAugmentation { CropPadding = 2, HorizontalFlip = true },
        }).Fit(train);
        var network = model.LastTransformer;
        using var stream = new MemoryStream();
        network.ExportToOnnx(stream);

        // The network's input: what the chain's ResizeImages + ExtractPixels steps produce.
        var pixels = test;
        foreach (var step in model.Take(model.Count() - 1))
            pixels = step.Transform(pixels);
        var features = pixels.GetColumn<float[]>(network.FeatureColumnName).ToArray();
        using var session = new InferenceSession(stream.ToArray());
        Assert.Equal("28", session.ModelMetadata.CustomMetadataMap["image_height"]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(network.FeatureColumnName,
            new DenseTensor<float>(features.SelectMany(f => f).ToArray(), [features.Length, network.FeatureSize]))]);
        var expected = model.Transform(test).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        var actual = results.Single(r => r.Name == "Score").AsTensor<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)) <= 1e-4f);

        using var converted = new MemoryStream();
        var ex = Assert.ThrowsAny<Exception>(() => mlContext.Model.ConvertToOnnx(model, test, converted));
        var message = ex is NotSupportedException ? ex.Message : ex.InnerException?.Message ?? ex.Message;
        Assert.Contains("network step", message);
        Assert.Contains("ExportToOnnx", message);
        Assert.Equal(0, converted.Length);
    }
}

using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Plots;
using SkiaSharp;
using Xunit;

namespace ML.DeepExtensions.PublicApi.Tests;

public class PlotsPublicApiTests
{
    [Fact]
    public void LearningCurvesAndConfusionMatrix_AreValidPngsOfTheRequestedSize()
    {
        var mlContext = new MLContext(seed: 2);
        var data = mlContext.Data.LoadFromTextFile(RepoData.Path("data/digits/digits.csv"),
            [new TextLoader.Column("Pixels", DataKind.Single, 0, 63), new TextLoader.Column("Digit", DataKind.String, 64)], separatorChar: ',');
        var split = mlContext.Data.TrainTestSplit(data, testFraction: 0.2, seed: 7);
        var model = mlContext.Transforms.Conversion.MapValueToKey("Label", "Digit")
            .Append(mlContext.Transforms.Expression("Features", "x => x / 16", "Pixels"))
            .Append(mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([32]), Epochs = 3, ValidationFraction = 0.1 }))
            .Fit(split.TrainSet);
        var network = model.LastTransformer;
        var metrics = mlContext.MulticlassClassification.Evaluate(model.Transform(split.TestSet));

        using var directory = RepoData.Temporary();
        var curves = directory.File("learning-curves.png");
        TrainingPlots.SaveLearningCurves(network.History, curves, "Digits MLP", width: 640, height: 360);
        AssertPng(curves, 640, 360);
        // Four series in four colours (training/validation × loss/accuracy), each drawn.
        using (var bitmap = SKBitmap.Decode(curves))
        {
            foreach (var color in new[] { TrainingPlots.TrainingLossColor, TrainingPlots.ValidationLossColor, TrainingPlots.TrainingMetricColor, TrainingPlots.ValidationMetricColor })
            {
                var count = bitmap.Pixels.Count(p => p.Red == color.R && p.Green == color.G && p.Blue == color.B);
                Assert.True(count > 20, $"colour #{color.R:X2}{color.G:X2}{color.B:X2} covers {count} pixels: its series was not drawn");
            }
        }
        var confusion = directory.File("confusion.png");
        TrainingPlots.SaveConfusionMatrix(metrics.ConfusionMatrix, network.ClassNames, confusion, size: 500);
        AssertPng(confusion, 500, 500);
    }

    /// <summary>The PNG signature, an IHDR chunk with the size, and a file SkiaSharp decodes to that size.</summary>
    private static void AssertPng(string path, int width, int height)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 33, $"{path} holds {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16, 4)));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20, 4)));
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        Assert.True(bitmap.Pixels.Distinct().Skip(2).Any(), "the image has fewer than three colours: nothing was drawn");
    }
}

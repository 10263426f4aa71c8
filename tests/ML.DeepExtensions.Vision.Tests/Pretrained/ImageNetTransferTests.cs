using System;
using System.IO;
using System.Linq;
using ML.DeepExtensions.Vision.Pretrained;
using SkiaSharp;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Pretrained;

/// <summary>
/// Real data: the imported ImageNet backbone, frozen, turns real Fashion-MNIST images (data/fashion-mnist, the
/// repository's subset of the official splits) into features that a nearest-class-mean classifier separates far
/// better than the same backbone with random weights.
/// </summary>
public sealed class ImageNetTransferTests
{
    private const int PerClassTrain = 10;
    private const int PerClassTest = 10;
    private const int Side = 64; // a multiple of 32, where CNTK's asymmetric padding equals torchvision's
    private readonly ITestOutputHelper _output;

    public ImageNetTransferTests(ITestOutputHelper output) => _output = output;

    private static (float[] Pixels, int Label)[] Load(string split, int perClass)
    {
        var root = Path.Combine(ReferenceTools.RepoRoot(), "data", "fashion-mnist", split);
        var classes = Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal).ToArray();
        Assert.Equal(10, classes.Length);
        return classes.SelectMany((dir, label) => Directory.GetFiles(dir, "*.png").OrderBy(f => f, StringComparer.Ordinal).Take(perClass)
            .Select(file =>
            {
                using var bitmap = SKBitmap.Decode(file) ?? throw new InvalidDataException($"Cannot decode '{file}'.");
                using var resized = bitmap.Resize(new SKImageInfo(Side, Side, SKColorType.Gray8), SKFilterQuality.Medium);
                var grey = resized.Bytes;
                // The ONNX model's input contract: BGR 0–255 minus the mean image (its channel averages here); grey is the same in every channel.
                var pixels = new float[3 * Side * Side];
                for (var c = 0; c < 3; c++)
                    for (var i = 0; i < Side * Side; i++)
                        pixels[c * Side * Side + i] = grey[i] - ImageNetWeights.ResNet18OnnxChannelMeansBgr[c];
                return (pixels, label);
            })).ToArray();
    }

    private static float[][] Features(ReferenceResNet18 model, (float[] Pixels, int Label)[] images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = tensor(images.SelectMany(i => i.Pixels).ToArray(), [images.Length, 3, Side, Side]);
        var features = model.Features(batch);
        return Enumerable.Range(0, images.Length).Select(i => features[i].data<float>().ToArray()).ToArray();
    }

    private static double NearestMeanAccuracy(float[][] train, int[] trainLabels, float[][] test, int[] testLabels)
    {
        var dims = train[0].Length;
        // Unit-length feature vectors: nearest class mean by direction, insensitive to overall activation scale.
        static double[] UnitLength(float[] f)
        {
            var norm = Math.Sqrt(f.Sum(v => (double)v * v)) + 1e-9;
            return f.Select(v => v / norm).ToArray();
        }
        var centroids = Enumerable.Range(0, 10).Select(c =>
        {
            var rows = train.Where((_, i) => trainLabels[i] == c).Select(UnitLength).ToArray();
            return Enumerable.Range(0, dims).Select(d => rows.Average(r => r[d])).ToArray();
        }).ToArray();
        var correct = test.Select(UnitLength).Where((f, i) =>
            Enumerable.Range(0, 10).MinBy(c => centroids[c].Zip(f, (a, b) => (a - b) * (a - b)).Sum()) == testLabels[i]).Count();
        return (double)correct / test.Length;
    }

    [Fact]
    [Trait("Category", "Accuracy")]
    public void FrozenImageNetBackbone_OnRealFashionMnist_BeatsRandomWeights()
    {
        var train = Load("train", PerClassTrain);
        var test = Load("test", PerClassTest);
        var blocks = ImageNetWeights.ResNet18OnnxBlocksPerStage.ToArray();
        var onnx = Path.Combine(AppContext.BaseDirectory, ImageNetWeights.ResNet18OnnxRelativePath);

        double Accuracy(bool pretrained)
        {
            torch.random.manual_seed(1);
            using var model = new ReferenceResNet18(classes: 10, blocks: blocks);
            if (pretrained)
                ImageNetWeights.ResNet18FromOnnx(onnx).Apply(model, headTensors: 2);
            model.eval();
            return NearestMeanAccuracy(Features(model, train), train.Select(t => t.Label).ToArray(),
                Features(model, test), test.Select(t => t.Label).ToArray());
        }

        var imageNet = Accuracy(pretrained: true);
        var random = Accuracy(pretrained: false);
        _output.WriteLine($"Fashion-MNIST ({PerClassTrain}/class train, {PerClassTest}/class test, nearest class mean on 512 features): ImageNet {imageNet:P0}, random weights {random:P0}");
        Assert.True(imageNet >= 0.60, $"ImageNet features reached only {imageNet:P0}");
        Assert.True(imageNet >= random + 0.10, $"ImageNet features ({imageNet:P0}) should beat random weights ({random:P0}) by 10 points");
    }
}

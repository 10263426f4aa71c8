using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Layers;

/// <summary>Image preprocessing and augmentation layers, checked on the real 8×8 digits reshaped to (1, 8, 8).</summary>
public class ImageLayerTests(ITestOutputHelper output)
{
    private static readonly Lazy<float[][]> DigitPixels = new(() =>
        DigitsData.Digits(new MLContext(seed: 1)).GetColumn<float[]>("Features").ToArray());

    /// <summary>The first <paramref name="count"/> digits as a (count, 1, 8, 8) batch with values in [0, 1].</summary>
    private static Tensor Digits(int count)
    {
        var pixels = DigitPixels.Value;
        Assert.True(count <= pixels.Length);
        return torch.tensor(pixels.Take(count).SelectMany(p => p).ToArray(), [count, 1, 8, 8]);
    }

    /// <summary>Same shape and bit-identical values.</summary>
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().ToBoolean();

    private static Tensor Run(Layer layer, Tensor input, bool training, ulong seed = 1)
    {
        using var generator = new Generator(seed);
        var shape = input.shape.Skip(1).Select(d => (int)d).ToArray();
        Assert.Equal(shape, layer.InferOutputShape(shape, 0));
        using var module = layer.Build(shape, new BuildContext(generator));
        module.train(training);
        return module.forward(input);
    }

    private static readonly Dictionary<string, Func<Layer>> RandomLayers = new()
    {
        ["RandomCrop"] = () => new RandomCropLayer(2),
        ["RandomCropReflect"] = () => new RandomCropLayer(2, ImagePaddingMode.Reflect),
        ["RandomFlip"] = () => new RandomFlipLayer(horizontal: true, vertical: true),
        ["RandomRotation"] = () => new RandomRotationLayer(30),
        ["ColorJitter"] = () => new ColorJitterLayer(0.3, 0.3),
        ["RandomErasing"] = () => new RandomErasingLayer(0.9),
    };

    public static TheoryData<string> RandomLayerNames => new(RandomLayers.Keys);

    [Theory]
    [MemberData(nameof(RandomLayerNames))]
    public void RandomLayer_WhenScoring_IsBitIdentical(string name)
    {
        using var scope = torch.NewDisposeScope();
        var x = Digits(64);
        var y = Run(RandomLayers[name](), x, training: false);
        Assert.Equal(x.shape, y.shape);
        Assert.True(Same(x, y), $"{name} changed the batch in eval mode");
    }

    [Theory]
    [MemberData(nameof(RandomLayerNames))]
    public void RandomLayer_WhenTraining_KeepsShapeAndChangesMostImages(string name)
    {
        using var scope = torch.NewDisposeScope();
        var x = Digits(64);
        var y = Run(RandomLayers[name](), x, training: true);
        Assert.Equal(x.shape, y.shape);
        var changed = (x - y).abs().amax([1, 2, 3]).gt(1e-6).sum().ToInt64();
        output.WriteLine($"{name}: {changed} of 64 images changed");
        Assert.True(changed >= 32, $"{name} changed only {changed} of 64 images in training mode");
    }

    [Theory]
    [MemberData(nameof(RandomLayerNames))]
    public void RandomLayer_SameSeedRepeats_DifferentSeedDiffers(string name)
    {
        using var scope = torch.NewDisposeScope();
        var x = Digits(64);
        var a = Run(RandomLayers[name](), x, training: true, seed: 5);
        var b = Run(RandomLayers[name](), x, training: true, seed: 5);
        var c = Run(RandomLayers[name](), x, training: true, seed: 6);
        Assert.True(Same(a, b), $"{name}: same seed gave different outputs");
        Assert.False(Same(a, c), $"{name}: different seeds gave the same output");
    }

    [Theory]
    [MemberData(nameof(RandomLayerNames))]
    public void RandomLayer_Forward_LeavesNoTemporaryTensorsAlive(string name)
    {
        using var generator = new Generator(2);
        using var module = RandomLayers[name]().Build([1, 8, 8], new BuildContext(generator));
        module.train();
        using var x = Digits(32);
        module.forward(x).Dispose();   // warm-up: lazily created native state is not a leak
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        module.forward(x).Dispose();
        var after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.Equal(before, after);
    }

    [Fact]
    public void RandomLayer_SuccessiveBatches_DrawFreshRandomness()
    {
        using var scope = torch.NewDisposeScope();
        var x = Digits(32);
        using var generator = new Generator(3);
        using var module = new RandomRotationLayer(30).Build([1, 8, 8], new BuildContext(generator));
        module.train();
        Assert.False(Same(module.forward(x), module.forward(x)));
    }

    [Fact]
    public void RandomFlip_ProbabilityOne_MirrorsEveryImage_AndTwiceIsTheIdentity()
    {
        using var scope = torch.NewDisposeScope();
        var x = Digits(64);
        Assert.True(Same(x.flip(3), Run(new RandomFlipLayer(probability: 1), x, true)));
        Assert.True(Same(x.flip(2), Run(new RandomFlipLayer(false, true, 1), x, true)));
        Assert.True(Same(x.flip(2, 3), Run(new RandomFlipLayer(true, true, 1), x, true)));

        using var generator = new Generator(1);
        var twice = Network.Create().RandomFlip(probability: 1).RandomFlip(probability: 1).Build([1, 8, 8], new BuildContext(generator));
        using (twice)
        {
            twice.train();
            Assert.True(Same(x, twice.forward(x)));
        }
    }

    [Fact]
    public void RandomFlip_HalfProbability_MirrorsAboutHalfTheImagesAndLeavesTheRestUntouched()
    {
        using var scope = torch.NewDisposeScope();
        var x = Digits(400);
        var y = Run(new RandomFlipLayer(probability: 0.5), x, true);
        var same = y.eq(x).all(1).all(1).all(1);
        var mirrored = y.eq(x.flip(3)).all(1).all(1).all(1);
        Assert.True(same.logical_or(mirrored).all().ToBoolean(), "every image must be either unchanged or mirrored");
        var flipped = mirrored.logical_and(same.logical_not()).sum().ToInt64();
        output.WriteLine($"flipped {flipped} of 400");
        Assert.InRange(flipped, 150, 250);   // Binomial(400, 0.5): mean 200, sd 10
    }

    [Theory]
    [InlineData(ImagePaddingMode.Zeros)]
    [InlineData(ImagePaddingMode.Reflect)]
    public void RandomCrop_EveryImageIsAShiftedWindowOfThePaddedImage_AtEveryOffset(ImagePaddingMode mode)
    {
        using var scope = torch.NewDisposeScope();
        const int p = 2;
        var x = Digits(300);
        var y = Run(new RandomCropLayer(p, mode), x, true);
        var padded = nn.functional.pad(x, [p, p, p, p], mode == ImagePaddingMode.Reflect ? PaddingModes.Reflect : PaddingModes.Constant, 0);
        var seen = new HashSet<(int, int)>();
        for (var i = 0; i < 300; i++)
        {
            var matches = new List<(int, int)>();
            for (var dy = 0; dy <= 2 * p; dy++)
                for (var dx = 0; dx <= 2 * p; dx++)
                    if (Same(y[i], padded[i, .., dy..(dy + 8), dx..(dx + 8)]))
                        matches.Add((dy, dx));
            Assert.True(matches.Count > 0, $"image {i} is not a window of its padded image");
            seen.UnionWith(matches);
        }
        output.WriteLine($"{mode}: {seen.Count} of 25 offsets seen");
        Assert.Equal(25, seen.Count);   // each offset has chance 1/25 per image: all appear among 300 images
    }

    [Fact]
    public void Rotate_ByZero_IsTheIdentity_AndBy90_MatchesRot90CounterClockwise()
    {
        using var scope = torch.NewDisposeScope();
        var x = Digits(16);
        var none = RandomRotationModule.Rotate(x, torch.zeros(16));
        Assert.True(torch.allclose(x, none, rtol: 0, atol: 1e-5));
        var quarter = RandomRotationModule.Rotate(x, torch.full(16, 90f));
        Assert.True(torch.allclose(torch.rot90(x, 1, (2, 3)), quarter, rtol: 0, atol: 1e-5));
        var minusQuarter = RandomRotationModule.Rotate(x, torch.full(16, -90f));
        Assert.True(torch.allclose(torch.rot90(x, -1, (2, 3)), minusQuarter, rtol: 0, atol: 1e-5));
        Assert.True(Same(x, Run(new RandomRotationLayer(0), x, true)));
    }

    [Fact]
    public void RandomRotation_EachImageIsARotationWithinMaxDegrees_SpreadOverTheRange()
    {
        using var scope = torch.NewDisposeScope();
        const int n = 30;
        const double max = 15;
        var x = Digits(n);
        var y = Run(new RandomRotationLayer(max), x, true);
        // Find each image's angle by brute force over ±30° in 0.1° steps, using the same rotation primitive.
        var angles = torch.arange(-30.0, 30.05, 0.1, ScalarType.Float32);
        var k = angles.shape[0];
        var candidates = RandomRotationModule.Rotate(x.repeat_interleave(k, 0), angles.repeat(n)).view(n, k, 64);
        var errors = (candidates - y.view(n, 1, 64)).abs().amax(2);            // (n, k)
        var best = errors.argmin(1);
        var bestAngles = angles.index_select(0, best).data<float>().ToArray();
        var bestErrors = errors.gather(1, best.unsqueeze(1)).data<float>().ToArray();
        output.WriteLine("angles: " + string.Join(" ", bestAngles.Select(a => a.ToString("F1"))));
        Assert.All(bestErrors, e => Assert.True(e < 0.02, $"an output is not a rotation of its input (error {e})"));
        Assert.All(bestAngles, a => Assert.InRange(a, -max - 0.2, max + 0.2));
        Assert.True(bestAngles.Min() < -max / 2 && bestAngles.Max() > max / 2, "angles do not spread over ±maxDegrees");
    }

    [Fact]
    public void ColorJitter_BrightnessOnly_ScalesEachImageByOneFactorInRange()
    {
        using var scope = torch.NewDisposeScope();
        const double b = 0.4;
        var x = Digits(200);
        var y = Run(new ColorJitterLayer(b), x, true);
        var sumX = x.sum([1, 2, 3]);
        var factors = (y.sum([1, 2, 3]) / sumX).data<float>().ToArray();
        var predicted = x * torch.tensor(factors).view(-1, 1, 1, 1);
        Assert.True(torch.allclose(predicted, y, rtol: 1e-5, atol: 1e-6), "an image was not scaled uniformly");
        Assert.All(factors, f => Assert.InRange(f, 1 - b - 1e-5, 1 + b + 1e-5));
        Assert.True(factors.Min() < 1 - b / 2 && factors.Max() > 1 + b / 2, $"factors {factors.Min()}–{factors.Max()} do not spread over 1±{b}");
    }

    [Fact]
    public void ColorJitter_ContrastOnly_KeepsEachMeanAndScalesDeviationsInRange()
    {
        using var scope = torch.NewDisposeScope();
        const double c = 0.5;
        var x = Digits(200);
        var y = Run(new ColorJitterLayer(0, c), x, true);
        var meanX = x.mean([1, 2, 3], keepdim: true);
        Assert.True(torch.allclose(meanX, y.mean([1, 2, 3], keepdim: true), rtol: 0, atol: 1e-5), "contrast moved an image's mean");
        var dx = x - meanX;
        var factors = ((y - meanX) * dx).sum([1, 2, 3]) / (dx * dx).sum([1, 2, 3]);     // least-squares factor per image
        Assert.True(torch.allclose(meanX + dx * factors.view(-1, 1, 1, 1), y, rtol: 0, atol: 1e-5), "deviations were not scaled uniformly");
        var f = factors.data<float>().ToArray();
        Assert.All(f, v => Assert.InRange(v, 1 - c - 1e-4, 1 + c + 1e-4));
        Assert.True(f.Min() < 1 - c / 2 && f.Max() > 1 + c / 2);
    }

    [Fact]
    public void RandomErasing_ProbabilityOne_ZeroesOneRectangleOfTheRequestedScaleAndRatio()
    {
        using var scope = torch.NewDisposeScope();
        const int n = 200, side = 32;
        const double minScale = 0.05, maxScale = 0.3, minRatio = 0.5, maxRatio = 2;
        // Real digits enlarged to 32×32 and lifted off zero, so every zero of the output was erased.
        var x = nn.functional.interpolate(Digits(n), [side, side], mode: InterpolationMode.Bilinear, align_corners: false) + 0.5f;
        var y = Run(new RandomErasingLayer(1, minScale, maxScale, minRatio, maxRatio), x, true);
        var erased = y.eq(0);
        Assert.True(Same(y.masked_fill(erased, 0), x.masked_fill(erased, 0)), "pixels outside the erased set changed");
        var areas = new List<double>();
        for (var i = 0; i < n; i++)
        {
            var mask = erased[i, 0];
            var count = mask.sum().ToInt64();
            Assert.True(count > 0, $"image {i} was not erased although probability is 1");
            var rows = mask.any(1).nonzero().flatten().data<long>().ToArray();
            var cols = mask.any(0).nonzero().flatten().data<long>().ToArray();
            long h = rows[^1] - rows[0] + 1, w = cols[^1] - cols[0] + 1;
            Assert.Equal(h * w, count);    // the zeros fill their bounding box: one rectangle
            Assert.True(h < side && w < side);
            var area = count / (double)(side * side);
            Assert.InRange(area, minScale * 0.7, maxScale * 1.2);                 // side rounding moves the area a little
            Assert.InRange(h / (double)w, minRatio * 0.7, maxRatio / 0.7);
            areas.Add(area);
        }
        output.WriteLine($"erased area fraction {areas.Min():F3}–{areas.Max():F3}, mean {areas.Average():F3}");
        Assert.InRange(areas.Average(), (minScale + maxScale) / 2 - 0.03, (minScale + maxScale) / 2 + 0.03);
    }

    [Fact]
    public void RandomErasing_HalfProbability_ErasesAboutHalfTheImages()
    {
        using var scope = torch.NewDisposeScope();
        var x = Digits(400) + 0.5f;
        var y = Run(new RandomErasingLayer(0.5), x, true);
        var erasedImages = y.eq(0).any(1).any(1).any(1).sum().ToInt64();
        output.WriteLine($"erased {erasedImages} of 400");
        Assert.InRange(erasedImages, 150, 250);
    }

    [Fact]
    public void Normalize_SubtractsMeanAndDividesByStdPerChannel_InTrainingAndScoring()
    {
        using var scope = torch.NewDisposeScope();
        var gray = Digits(20);
        var x = torch.cat([gray, gray * 2, gray + 1], 1);           // three channels with different statistics
        var layer = new NormalizeLayer([0.5f, 1f, 1.5f], [0.25f, 0.5f, 2f]);
        var expected = torch.cat([(gray - 0.5f) / 0.25f, (gray * 2 - 1f) / 0.5f, (gray + 1 - 1.5f) / 2f], 1);
        Assert.True(torch.allclose(expected, Run(layer, x, training: true), rtol: 1e-6, atol: 1e-6));
        Assert.True(torch.allclose(expected, Run(layer, x, training: false), rtol: 1e-6, atol: 1e-6));
        var broadcast = Run(new NormalizeLayer([0.5f], [0.25f]), x, training: false);
        Assert.True(torch.allclose((x - 0.5f) / 0.25f, broadcast, rtol: 1e-6, atol: 1e-6));
        Assert.Equal("Normalize(mean [0.5, 1, 1.5], std [0.25, 0.5, 2])", layer.ToString());
    }

    [Fact]
    public void Json_RoundTrip_KeepsEveryImageLayer()
    {
        var network = Network.Create().Reshape(3, 8, 8)
            .RandomCrop(1, ImagePaddingMode.Reflect).RandomFlip(true, true, 0.25).RandomRotation(12.5)
            .ColorJitter(0.2, 0.3).RandomErasing(0.4, 0.05, 0.2, 0.5, 2)
            .Normalize([0.1f, 0.2f, 0.3f], [1.5f, 2.5f, 3.5f]);
        var json = network.ToJson();
        var back = Network.FromJson(json);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(network.Layers.Select(l => l.ToString()), back.Layers.Select(l => l.ToString()));
        foreach (var type in new[] { "RandomCrop", "RandomFlip", "RandomRotation", "ColorJitter", "RandomErasing", "Normalize" })
            Assert.Contains($"\"type\":\"{type}\",\"assembly\":\"ML.DeepExtensions.Vision\"", json);
        Assert.Contains("{\"type\":\"Reshape\",\"shape\"", json);   // core layers name no assembly
        Assert.Equal(new[] { 3, 8, 8 }, back.OutputShape(192));
        var erasing = Assert.IsType<RandomErasingLayer>(back.Layers[5]);
        Assert.Equal((0.4, 0.05, 0.2, 0.5, 2.0), (erasing.Probability, erasing.MinScale, erasing.MaxScale, erasing.MinRatio, erasing.MaxRatio));
    }

    [Fact]
    public void ToString_DescribesEachLayer()
    {
        Assert.Equal("RandomCrop(padding 4, Reflect)", new RandomCropLayer(4, ImagePaddingMode.Reflect).ToString());
        Assert.Equal("RandomFlip(horizontal and vertical, p 0.3)", new RandomFlipLayer(true, true, 0.3).ToString());
        Assert.Equal("RandomRotation(±10°)", new RandomRotationLayer(10).ToString());
        Assert.Equal("ColorJitter(brightness 0.2, contrast 0.1)", new ColorJitterLayer(0.2, 0.1).ToString());
        Assert.Equal("RandomErasing(p 0.5, scale 0.02–0.33, ratio 0.3–3.3)", new RandomErasingLayer().ToString());
    }

    [Fact]
    public void BadParameters_ThrowNamingTheParameterAndTheValue()
    {
        void Check<T>(Func<object> create, string parameter, string received) where T : ArgumentException
        {
            var ex = Assert.Throws<T>(() => create());
            Assert.Equal(parameter, ex.ParamName);
            Assert.Contains(received, ex.Message);
        }

        Check<ArgumentOutOfRangeException>(() => new NormalizeLayer([0.5f], [0f]), "std", "Received: std=[0]");
        Check<ArgumentOutOfRangeException>(() => new NormalizeLayer([float.NaN], [1f]), "mean", "Received: mean=[NaN]");
        Check<ArgumentException>(() => new NormalizeLayer([], [1f]), "mean", "Received: mean=[]");
        Assert.Throws<ArgumentNullException>(() => new NormalizeLayer(null!, [1f]));
        Check<ArgumentOutOfRangeException>(() => new RandomCropLayer(-1), "padding", "Received: padding=-1");
        Check<ArgumentOutOfRangeException>(() => new RandomCropLayer(1, (ImagePaddingMode)7), "paddingMode", "Received: paddingMode=7");
        Check<ArgumentException>(() => new RandomFlipLayer(false, false), "horizontal", "horizontal=False, vertical=False");
        Check<ArgumentOutOfRangeException>(() => new RandomFlipLayer(probability: 1.5), "probability", "Received: probability=1.5");
        Check<ArgumentOutOfRangeException>(() => new RandomRotationLayer(200), "maxDegrees", "Received: maxDegrees=200");
        Check<ArgumentOutOfRangeException>(() => new RandomRotationLayer(double.NaN), "maxDegrees", "Received: maxDegrees=NaN");
        Check<ArgumentOutOfRangeException>(() => new ColorJitterLayer(1.5), "brightness", "Received: brightness=1.5");
        Check<ArgumentOutOfRangeException>(() => new ColorJitterLayer(0.1, -0.1), "contrast", "Received: contrast=-0.1");
        Check<ArgumentOutOfRangeException>(() => new RandomErasingLayer(-0.1), "probability", "Received: probability=-0.1");
        Check<ArgumentOutOfRangeException>(() => new RandomErasingLayer(minScale: 0), "minScale", "Received: minScale=0");
        Check<ArgumentException>(() => new RandomErasingLayer(minScale: 0.5, maxScale: 0.2), "minScale", "minScale=0.5, maxScale=0.2");
        Check<ArgumentOutOfRangeException>(() => new RandomErasingLayer(minRatio: 0), "minRatio", "Received: minRatio=0");
        Check<ArgumentException>(() => new RandomErasingLayer(minRatio: 3, maxRatio: 2), "minRatio", "minRatio=3, maxRatio=2");
    }

    [Fact]
    public void WrongInputShapes_ThrowNamingTheLayerAndTheShapes()
    {
        var flat = Assert.Throws<NetworkShapeException>(() => Network.Create().RandomRotation(10).OutputShape(64));
        Assert.Contains("RandomRotation", flat.Message);
        Assert.Contains("(channels, height, width)", flat.Message);
        Assert.Contains("received (64)", flat.Message);

        var channels = Assert.Throws<NetworkShapeException>(() => Network.Create().Reshape(1, 8, 8).Normalize([0.1f, 0.2f, 0.3f], [1f]).OutputShape(64));
        Assert.Equal(1, channels.LayerIndex);
        Assert.Contains("3 channels", channels.Message);
        Assert.Contains("received (1, 8, 8)", channels.Message);

        var reflect = Assert.Throws<NetworkShapeException>(() => Network.Create().Reshape(1, 8, 8).RandomCrop(8, ImagePaddingMode.Reflect).OutputShape(64));
        Assert.Contains("reflect padding 8", reflect.Message);
        Assert.Equal(new[] { 1, 8, 8 }, Network.Create().Reshape(1, 8, 8).RandomCrop(8).OutputShape(64));   // zero padding has no limit
    }

    [Fact]
    public void Gradients_FlowThroughEveryLayer()
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        var network = Network.Create().Reshape(1, 8, 8).Normalize([0.3f], [0.4f]).RandomCrop(1).RandomFlip().RandomRotation(10)
            .ColorJitter(0.2, 0.2).RandomErasing(0.5).Conv2d(4, 3).Flatten().Dense(2);
        using var module = network.Build([64], new BuildContext(generator));
        module.train();
        var x = Digits(16).view(16, 64).requires_grad_();
        module.forward(x).sum().backward();
        Assert.NotNull(x.grad);
        Assert.All(module.parameters(), p => Assert.NotNull(p.grad));
    }

    [Fact]
    [Trait("Category", "Accuracy")]
    [Trait("Category", "Slow")]
    public void Training_WithAugmentationLayers_OnDigits_ReachesSaneAccuracy_AndScoresDeterministically()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = DigitsData.DigitsSplit(mlContext);
        var network = Network.Create().Reshape(1, 8, 8)
            .RandomCrop(1).RandomRotation(10).ColorJitter(0.2, 0.2).RandomErasing(0.25)
            .Normalize([0.3f], [0.4f])
            .Conv2d(16, 3, padding: 1).ReLU().MaxPool2d(2)
            .Flatten().Dense(32).ReLU();
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions
        {
            Network = network,
            Epochs = 8,
            BatchSize = 64,
            LearningRate = 5e-3,
            Schedule = LearningRateSchedule.Cosine(),
        }).Fit(train);
        var scored = model.Transform(test);
        var metrics = mlContext.MulticlassClassification.Evaluate(scored);
        output.WriteLine($"augmented digits CNN: test accuracy {metrics.MicroAccuracy:P2}, log-loss {metrics.LogLoss:F4}");
        // A short run (8 epochs of a small CNN) on strongly distorted 8×8 images: it must still learn the digits.
        Assert.True(metrics.MicroAccuracy >= 0.90, $"Test accuracy {metrics.MicroAccuracy:P2} < 90%");
        // Scoring runs in eval mode, where every augmentation is the identity: two passes agree bit for bit.
        var scores = DigitsData.Scores(scored);
        Assert.Equal(scores, DigitsData.Scores(model.Transform(test)));
        // The zip keeps the augmentation layers in the spec; they hold no weights, so the weights load unchanged.
        using var zip = new MemoryStream();
        mlContext.Model.Save(model, test.Schema, zip);
        zip.Position = 0;
        var loaded = new MLContext().Model.Load(zip, out _);
        Assert.Equal(scores, DigitsData.Scores(loaded.Transform(test)));
    }
}

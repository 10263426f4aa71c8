using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Pretrained;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Vision.Pretrained;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Pretrained;

/// <summary>
/// The ImageNet ResNet-18 of NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 (a CNTK ONNX export) imported into a
/// torchvision-structured ResNet-18 gives the ONNX model's own 512 features, computed by ONNX Runtime 1.31.1.
/// </summary>
public sealed class ImageNetWeightsTests
{
    private static readonly string OnnxPath = Path.Combine(AppContext.BaseDirectory, ImageNetWeights.ResNet18OnnxRelativePath);
    private readonly ITestOutputHelper _output;

    public ImageNetWeightsTests(ITestOutputHelper output) => _output = output;

    /// <summary>A batch-of-one image in the model's input space: BGR pixel values 0–255 minus the mean image (≈ 114).</summary>
    private static float[] Image(int seed)
    {
        var random = new Random(seed);
        var pixels = new float[3 * 224 * 224];
        // Smooth gradients plus noise, so that features are not those of pure noise.
        for (var c = 0; c < 3; c++)
            for (var y = 0; y < 224; y++)
                for (var x = 0; x < 224; x++)
                    pixels[(c * 224 + y) * 224 + x] = (float)(127 * Math.Sin((x + 40 * c) / 23.0) * Math.Cos(y / 31.0) + 30 * random.NextDouble() - 15);
        return pixels;
    }

    private static float[] OnnxFeatures(float[] image)
    {
        using var session = new InferenceSession(OnnxPath);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Input247", new DenseTensor<float>(image, [1, 3, 224, 224]))]);
        var output = results.Single(r => r.Name == "Pooling395_Output_0");
        return output.AsEnumerable<float>().ToArray();
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void ResNet18FromOnnx_ImportedIntoTorchvisionResNet18_MatchesOnnxRuntimeFeatures()
    {
        var image = Image(seed: 3);
        var clock = Stopwatch.StartNew();
        var expected = OnnxFeatures(image);
        var onnxTime = clock.Elapsed;
        Assert.Equal(512, expected.Length);

        using var model = new ReferenceResNet18(classes: 10, blocks: [.. ImageNetWeights.ResNet18OnnxBlocksPerStage]);
        model.eval();
        clock.Restart();
        var weights = ImageNetWeights.ResNet18FromOnnx(OnnxPath);
        var result = weights.Apply(model, headTensors: 2);
        var importTime = clock.Elapsed;

        Assert.Equal(110, result.BackboneTensors);   // 22 convolutions + 22 batch norms × 4
        Assert.False(result.HeadLoaded);            // the ONNX model has no classifier
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var features = model.Features(tensor(image, [1, 3, 224, 224])).data<float>().ToArray();
        var maxDiff = features.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
        var maxValue = expected.Max(Math.Abs);
        _output.WriteLine($"ImageNet ResNet-18: max |ours - ONNX Runtime| = {maxDiff:E2} (features up to {maxValue:F2}); ONNX run {onnxTime.TotalSeconds:F1} s, import {importTime.TotalSeconds:F1} s");
        Assert.True(maxValue > 0.1f, "features should not vanish");
        Assert.True(maxDiff < 1e-4f * Math.Max(1f, maxValue), $"max abs diff {maxDiff} for features up to {maxValue}");
    }

    /// <summary>
    /// The zoo's ResNet-18 written independently with the public DSL, with 2, 2, 2, 3 blocks per stage (the zoo's own
    /// <c>ResNet18(blocks: [2, 2, 2, 3])</c> is checked through the trainer in <see cref="ImageNetTrainerTests"/>): our own
    /// layers, matched to the ONNX weights by order and shape.
    /// </summary>
    private static Network DslResNet(int[] blocks)
    {
        var network = Network.Create().Conv2d(64, 7, 2, 3, useBias: false).BatchNorm().ReLU().MaxPool2d(3, 2, 1);
        var channels = 64;
        for (var stage = 0; stage < blocks.Length; stage++)
        {
            var planes = 64 << stage;
            for (var block = 0; block < blocks[stage]; block++)
            {
                var stride = stage > 0 && block == 0 ? 2 : 1;
                var body = Network.Create().Conv2d(planes, 3, stride, 1, useBias: false).BatchNorm().ReLU()
                    .Conv2d(planes, 3, 1, 1, useBias: false).BatchNorm();
                var shortcut = stride != 1 || channels != planes ? Network.Create().Conv2d(planes, 1, stride, useBias: false).BatchNorm() : null;
                network = network.Residual(body, shortcut, ActivationKind.ReLU);
                channels = planes;
            }
        }
        return network.GlobalAveragePool();
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void ResNet18FromOnnx_IntoOurDslResNet_MatchesOnnxRuntimeFeatures()
    {
        var image = Image(seed: 4);
        var expected = OnnxFeatures(image);
        var body = DslResNet([.. ImageNetWeights.ResNet18OnnxBlocksPerStage]);
        using var features = NetworkModel.Build(body, [3, 224, 224], seed: 1, CPU);

        var result = ImageNetWeights.ResNet18FromOnnx(OnnxPath).Apply(features.Module, headTensors: 0);

        Assert.False(result.MatchedByName);
        Assert.Equal(110, result.BackboneTensors);
        var actual = features.Forward(image, rows: 1);
        var maxDiff = actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
        var maxValue = expected.Max(Math.Abs);
        _output.WriteLine($"ImageNet weights in our DSL ResNet (2,2,2,3): max |ours - ONNX Runtime| = {maxDiff:E2} (features up to {maxValue:F2})");
        Assert.True(maxDiff < 1e-4f * Math.Max(1f, maxValue), $"max abs diff {maxDiff} for features up to {maxValue}");
    }

    [Fact]
    public void ResNet18FromOnnx_NamesTensorsLikeTorchvision()
    {
        var names = ImageNetWeights.ResNet18FromOnnx(OnnxPath).Describe();
        Assert.Equal(110, names.Count);
        Assert.Equal("conv1.weight", names[0].Name);
        Assert.Equal(new long[] { 64, 3, 7, 7 }, names[0].Shape);
        Assert.Equal("bn1.running_var", names[4].Name);
        Assert.Contains(names, n => n.Name == "layer2.0.downsample.0.weight" && n.Shape.SequenceEqual(new long[] { 128, 64, 1, 1 }));
        Assert.Equal("layer4.2.bn2.running_var", names[^1].Name);
    }

    [Fact]
    public void ReadBlocksPerStage_FindsTheExtraBlockInTheLastStage()
    {
        Assert.Equal(ImageNetWeights.ResNet18OnnxBlocksPerStage, ImageNetWeights.ReadBlocksPerStage(OnnxPath));
    }

    [Fact]
    public void ResNet18FromOnnx_IntoTorchvisionResNet18Layout_ThrowsTensorCountMismatch()
    {
        // torchvision's resnet18 (2, 2, 2, 2) has 10 tensors fewer than the ONNX model's backbone: a clear refusal, not a partial load.
        using var model = new ReferenceResNet18(classes: 10);

        var ex = Assert.Throws<PretrainedWeightsException>(() => ImageNetWeights.ResNet18FromOnnx(OnnxPath).Apply(model, 2));

        Assert.Contains("holds 110 tensors", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResNet18FromOnnx_OtherOnnxModel_ThrowsSayingWhatDoesNotMap()
    {
        var other = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        using var model = new ReferenceResNet18();

        var ex = Assert.Throws<PretrainedWeightsException>(() => ImageNetWeights.ResNet18FromOnnx(other).Apply(model, 2));

        Assert.Contains("does not map onto torchvision's ResNet-18", ex.Message, StringComparison.Ordinal);
        Assert.Contains(other, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResNet18FromOnnx_MissingFile_NamesThePackage()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => ImageNetWeights.ResNet18FromOnnx("/nowhere/ResNet18.onnx"));
        Assert.Contains("Microsoft.ML.DnnImageFeaturizer.ResNet18", ex.Message, StringComparison.Ordinal);
    }
}

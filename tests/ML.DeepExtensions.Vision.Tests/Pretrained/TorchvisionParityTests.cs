using System;
using System.IO;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Pretrained;
using ML.DeepExtensions.Scoring;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Pretrained;

/// <summary>
/// State dicts saved by Debian's PyTorch 1.13 / torchvision 0.14 (eng/reference/torchvision_resnet18.py, random
/// weights and random batch-norm statistics, eval mode) loaded with <see cref="PretrainedWeights"/> reproduce
/// PyTorch's own outputs.
/// </summary>
public sealed class TorchvisionParityTests : IDisposable
{
    private const float Tolerance = 1e-4f;
    private readonly string _dir = Directory.CreateTempSubdirectory("torchvision-parity-").FullName;
    private readonly ITestOutputHelper _output;

    public TorchvisionParityTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static float MaxAbsDiff(Tensor actual, float[] expected)
    {
        var values = actual.contiguous().data<float>().ToArray();
        Assert.Equal(expected.Length, values.Length);
        return values.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void PyTorchStateDict_SmallCnnWithOtherNames_ReproducesPyTorchOutputs()
    {
        var meta = ReferenceTools.Generate("small", _dir);
        var network = Network.Create()
            .Conv2d(8, 3, padding: 1).BatchNorm().ReLU().MaxPool2d(2)
            .Conv2d(16, 3, padding: 1).BatchNorm().ReLU().GlobalAveragePool().Dense(10);
        using var model = NetworkModel.Build(network, [3, 16, 16], seed: 1, CPU);
        using var scope = NewDisposeScope();
        var input = tensor(ReferenceTools.ReadFloats(Path.Combine(_dir, "input.f32")), ReferenceTools.Shape(meta, "input_shape"));
        var expected = ReferenceTools.ReadFloats(Path.Combine(_dir, "output.f32"));
        using (no_grad())
            Assert.True(MaxAbsDiff(model.Module.forward(input), expected) > 1e-2f, "an unloaded network should not match");

        var result = PretrainedWeights.FromPyTorch(Path.Combine(_dir, "state_dict.pt")).Apply(model.Module, headTensors: 2);

        Assert.False(result.MatchedByName);
        Assert.True(result.HeadLoaded);
        using (no_grad())
        {
            var diff = MaxAbsDiff(model.Module.forward(input), expected);
            _output.WriteLine($"small CNN: max |ours - PyTorch| = {diff:E2}");
            Assert.True(diff < Tolerance, $"max abs diff {diff} ≥ {Tolerance}");
        }
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void PyTorchStateDict_TorchvisionResNet18_ReproducesLogitsAndFeatures()
    {
        var meta = ReferenceTools.Generate("resnet18", _dir);
        Assert.Equal(122, meta.GetProperty("names").GetArrayLength()); // 102 tensors + 20 num_batches_tracked
        using var model = new ReferenceResNet18();
        model.eval();
        using var scope = NewDisposeScope();
        var input = tensor(ReferenceTools.ReadFloats(Path.Combine(_dir, "input.f32")), ReferenceTools.Shape(meta, "input_shape"));

        var result = PretrainedWeights.FromPyTorch(Path.Combine(_dir, "state_dict.pt")).Apply(model, headTensors: 2);

        Assert.Equal(100, result.BackboneTensors);
        Assert.True(result.HeadLoaded);
        using (no_grad())
        {
            var logits = MaxAbsDiff(model.forward(input), ReferenceTools.ReadFloats(Path.Combine(_dir, "output.f32")));
            var features = MaxAbsDiff(model.Features(input), ReferenceTools.ReadFloats(Path.Combine(_dir, "features.f32")));
            _output.WriteLine($"ResNet-18: max |ours - torchvision| logits {logits:E2}, features {features:E2}");
            Assert.True(logits < Tolerance, $"logits max abs diff {logits} ≥ {Tolerance}");
            Assert.True(features < Tolerance, $"features max abs diff {features} ≥ {Tolerance}");
        }
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void PyTorchStateDict_ZooResNet18_ReproducesTorchvisionLogits()
    {
        Assert.True(ArchitectureRegistry.IsRegistered("ResNet18") || TryRegisterVision(), "ResNet18 is not registered by ML.DeepExtensions.Vision.");
        // Our network is a Sequential of our layers: names differ from torchvision's, so this is a load by order and shape.
        var meta = ReferenceTools.Generate("resnet18", _dir);
        var shape = ReferenceTools.Shape(meta, "input_shape");
        // The trainer appends Dense(classes) after the body (with a Flatten when the body's output has several dimensions).
        var body = Network.Create().Architecture("ResNet18");
        int[] inputShape = [(int)shape[1], (int)shape[2], (int)shape[3]];
        var network = body.OutputShape(inputShape).Length > 1 ? body.Flatten().Dense(1000) : body.Dense(1000);
        using var model = NetworkModel.Build(network, inputShape, seed: 1, CPU);
        using var scope = NewDisposeScope();
        var input = tensor(ReferenceTools.ReadFloats(Path.Combine(_dir, "input.f32")), shape);

        var result = PretrainedWeights.FromPyTorch(Path.Combine(_dir, "state_dict.pt")).Apply(model.Module, headTensors: 2);

        Assert.True(result.HeadLoaded);
        Assert.False(result.MatchedByName);
        Assert.Equal(100, result.BackboneTensors);
        using (no_grad())
        {
            var diff = MaxAbsDiff(model.Module.forward(input), ReferenceTools.ReadFloats(Path.Combine(_dir, "output.f32")));
            _output.WriteLine($"zoo ResNet18: max |ours - torchvision| = {diff:E2}");
            Assert.True(diff < Tolerance, $"max abs diff {diff} ≥ {Tolerance}");
        }
    }

    [Theory]
    [InlineData("/nonexistent/python3")]
    [InlineData("/bin/false")]
    public void ReferenceTools_PythonMissingOrFailing_FailsWithInstallHint(string python)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => ReferenceTools.Generate("small", _dir, python));
        Assert.Contains("eng/install-reference-tools.sh", ex.Message, StringComparison.Ordinal);
    }

    private static bool TryRegisterVision()
    {
        // The Vision assembly registers its architectures when loaded; touching one of its types loads it.
        System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(typeof(ML.DeepExtensions.Vision.Pretrained.ImageNetWeights).Module.ModuleHandle);
        return ArchitectureRegistry.IsRegistered("ResNet18");
    }
}

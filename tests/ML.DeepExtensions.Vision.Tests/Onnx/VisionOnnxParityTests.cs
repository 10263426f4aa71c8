using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Tests.Onnx;
using ML.DeepExtensions.Vision.Tests.Zoo;
using ML.DeepExtensions.Vision.Zoo;
using Xunit;

namespace ML.DeepExtensions.Vision.Tests.Onnx;

/// <summary>Every zoo architecture (tiny variants of <see cref="ZooTests"/>) and the image layers: ONNX Runtime equals TorchSharp
/// within 1e-4 (max abs) at batch sizes 1 and 3.</summary>
public class VisionOnnxParityTests
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var architecture in VisionArchitectures.All)
            data.Add(architecture.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ZooArchitecture_Opset17_MatchesTorchSharp(string name)
    {
        var (parameters, image) = ZooTests.Tiny[name];
        var network = Network.Create().Architecture(name, parameters).Dense(5);
        var differences = OnnxParity.MaxAbsDifferences(network, image, opset: 17, batches: [1, 3]);
        Assert.All(differences, d => Assert.True(d <= Tolerance, $"{name}: max abs difference {d}, largest output {OnnxParity.LastOutputMagnitude}"));
    }

    [Theory]
    [InlineData("EfficientNetB0")]
    [InlineData("MobileNetV2")]
    [InlineData("ResNet18")]
    public void ZooArchitecture_Opset12_MatchesTorchSharp(string name)
    {
        // Opset 12 is what ML.NET's ConvertToOnnx writes: HardSwish/SiLU/SE blocks through older operators.
        var (parameters, image) = ZooTests.Tiny[name];
        var network = Network.Create().Architecture(name, parameters).Dense(5);
        var differences = OnnxParity.MaxAbsDifferences(network, image, opset: 12, batches: [1, 3]);
        Assert.All(differences, d => Assert.True(d <= Tolerance, $"{name}: max abs difference {d}, largest output {OnnxParity.LastOutputMagnitude}"));
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void EveryZooArchitecture_PassesTheOnnxChecker()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("mldx-onnx-check").FullName;
        try
        {
            var paths = VisionArchitectures.All.Select(a =>
            {
                var (parameters, image) = ZooTests.Tiny[a.Name];
                var path = System.IO.Path.Combine(directory, $"{a.Name}.onnx");
                OnnxParity.MaxAbsDifferences(Network.Create().Architecture(a.Name, parameters).Dense(5), image, batches: [1], saveTo: path);
                return path;
            }).ToArray();
            Assert.StartsWith($"ok {paths.Length}", OnnxChecker.Check(paths));
        }
        finally
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void NormalizeAndAugmentationLayers_MatchTorchSharpInScoringMode()
    {
        var network = Network.Create()
            .RandomCrop(2).RandomFlip(true, true, 0.9).RandomRotation(20).ColorJitter(0.4, 0.4).RandomErasing(0.9)
            .Normalize([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f])
            .Conv2d(2, 3).GlobalAveragePool();
        var differences = OnnxParity.MaxAbsDifferences(network, [3, 8, 8], value: r => (float)r.NextDouble());
        Assert.All(differences, d => Assert.True(d <= Tolerance, $"max abs difference {d}"));
    }

    [Fact]
    public void NormalizeWithOneValueForEveryChannel_MatchesTorchSharp()
    {
        var network = Network.Create().Normalize([0.5f], [0.25f]).Flatten();
        var differences = OnnxParity.MaxAbsDifferences(network, [2, 4, 4]);
        Assert.All(differences, d => Assert.True(d <= Tolerance, $"max abs difference {d}"));
    }
}

using System;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Vision.Detection;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Detection;

public sealed class DetectionPyramidTests
{
    [Fact]
    public void Network_ThreeLevels_OutputsOneRowPerLocationOfStrides8To32()
    {
        var network = DetectionArchitectures.CreateAnchorFreeDetector(new AnchorFreeDetectorParameters { Width = 0.25, Classes = 5, PyramidLevels = 3 });
        Assert.Equal(new[] { 16 * 16 + 8 * 8 + 4 * 4, 9 }, network.OutputShape(3, 128, 128));
        var single = DetectionArchitectures.CreateAnchorFreeDetector(new AnchorFreeDetectorParameters { Width = 0.25, Classes = 5 });
        Assert.Equal(new[] { 16 * 16, 9 }, single.OutputShape(3, 128, 128));
    }

    [Fact]
    public void Head_Forward_GivesTheInferredShape()
    {
        using var scope = NewDisposeScope();
        var layer = new PyramidDetectionHeadLayer(3, 8);
        using var module = layer.Build([16, 8, 8], null!);
        var output = module.forward(randn(2, 16, 8, 8, generator: new Generator(1)));
        Assert.Equal(new long[] { 2, 8 * 8 + 4 * 4 + 2 * 2, 7 }, output.shape);
        Assert.Equal(new[] { 8 * 8 + 4 * 4 + 2 * 2, 7 }, layer.InferOutputShape([16, 8, 8], 0));
    }

    [Fact]
    public void Locations_ThreeLevels_CentresAndStridesInOrder()
    {
        using var scope = NewDisposeScope();
        var (points, strides) = DetectionDecoder.Locations(128, 336, CPU);
        Assert.Equal(new long[] { 336, 2 }, points.shape);
        var s = strides.data<float>().ToArray();
        Assert.Equal(Enumerable.Repeat(8f, 256).Concat(Enumerable.Repeat(16f, 64)).Concat(Enumerable.Repeat(32f, 16)), s);
        Assert.Equal(new[] { 4f, 4 }, points[0].data<float>().ToArray());
        Assert.Equal(new[] { 8f, 8 }, points[256].data<float>().ToArray());
        Assert.Equal(new[] { 112f, 112 }, points[335].data<float>().ToArray());
        Assert.Throws<InvalidOperationException>(() => DetectionDecoder.Locations(128, 300, CPU));
    }

    [Fact]
    public void Assign_Pyramid_SmallBoxOnStride8_LargeBoxOnlyWhereItsDistancesFitTheLevel()
    {
        using var scope = NewDisposeScope();
        var (points, strides) = DetectionDecoder.Locations(128, 336, CPU);
        var gt = tensor(new float[] { 50, 50, 70, 74, 2, 4, 126, 124 }, [2, 1, 4]);
        var mask = ones(2, 1);
        var (positive, _) = DetectionObjective.Assign(gt, mask, points, strides, pyramid: true);
        var p = positive.data<bool>().ToArray();
        var s = strides.data<float>().ToArray();
        var xy = points.data<float>().ToArray();
        // The 20 × 24 box: positives only on the stride-8 level.
        var small = Enumerable.Range(0, 336).Where(i => p[i]).ToArray();
        Assert.NotEmpty(small);
        Assert.All(small, i => Assert.Equal(8f, s[i]));
        // The 124 × 120 box: every positive's largest distance lies in its level's range, and the stride-16 level has some.
        var large = Enumerable.Range(0, 336).Where(i => p[336 + i]).ToArray();
        Assert.Contains(large, i => s[i] == 16);
        foreach (var i in large)
        {
            var (x, y) = (xy[2 * i], xy[2 * i + 1]);
            var farthest = new[] { x - 2, y - 4, 126 - x, 124 - y }.Max();
            Assert.True(s[i] == 8 ? farthest <= 64 : farthest > 4 * s[i] && (s[i] == 32 || farthest <= 8 * s[i]), $"row {i} stride {s[i]} farthest {farthest}");
        }
        // Without the pyramid rule the same locations are candidates on every level (what the single-level head uses).
        var (all, _) = DetectionObjective.Assign(gt, mask, points, strides, pyramid: false);
        Assert.True(all.sum().item<long>() > positive.sum().item<long>());
    }

    [Fact]
    public void Options_BadPyramidLevels_OrImageSizeNotMultipleOf32_Throw()
    {
        var ml = new MLContext();
        Assert.Equal("Architecture", Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ObjectDetector(
            new ObjectDetectorOptions { Architecture = new AnchorFreeDetectorParameters { PyramidLevels = 2 } })).ParamName);
        Assert.Equal("ImageSize", Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ObjectDetector(
            new ObjectDetectorOptions { ImageSize = 136, Architecture = new AnchorFreeDetectorParameters { PyramidLevels = 3 } })).ParamName);
    }
}

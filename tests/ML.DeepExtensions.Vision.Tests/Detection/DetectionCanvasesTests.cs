using System;
using System.IO;
using System.Linq;
using Samples.Shared;
using Xunit;

namespace ML.DeepExtensions.Vision.Tests.Detection;

/// <summary>The canvas generator's optional object sources: OpenCV's handwritten digits and the full Fashion-MNIST, both
/// installed by eng/install-reference-tools.sh (Debian opencv-doc and dataset-fashion-mnist).</summary>
public sealed class DetectionCanvasesTests
{
    private const string Install = "run `bash eng/install-reference-tools.sh` (apt-get install opencv-doc dataset-fashion-mnist)";

    [Fact]
    public void HandwrittenDigits_CanvasesHoldDigitObjectsWithBoxesInside_AndRepeatWithTheSeed()
    {
        Assert.True(File.Exists(DetectionCanvases.DebianDigits), $"{DetectionCanvases.DebianDigits} is missing: {Install}.");
        var generator = new DetectionCanvases(DetectionCanvases.FindDataDirectory(), digitsPath: DetectionCanvases.DebianDigits);
        string[] classes = [.. DetectionCanvases.DigitClasses, "Trouser"];
        var train = generator.Generate("train", 40, 3, classes);
        var again = generator.Generate("train", 40, 3, classes);
        var test = generator.Generate("test", 40, 3, classes);
        var labels = train.Concat(test).SelectMany(c => c.Labels).ToArray();
        Assert.Contains(labels, l => l.StartsWith("digit-", StringComparison.Ordinal));
        Assert.Contains("Trouser", labels);
        Assert.All(train.Concat(test), c =>
        {
            Assert.Equal(4 * c.Labels.Length, c.Box.Length);
            for (var k = 0; k < c.Labels.Length; k++)
                Assert.True(c.Box[4 * k] >= 0 && c.Box[4 * k] < c.Box[4 * k + 2] && c.Box[4 * k + 2] <= 128 && c.Box[4 * k + 1] >= 0 && c.Box[4 * k + 1] < c.Box[4 * k + 3] && c.Box[4 * k + 3] <= 128);
        });
        Assert.Equal(train.Select(c => c.Image.Pixels.ToArray()), again.Select(c => c.Image.Pixels.ToArray()));
        Assert.Equal(train.Select(c => c.Box), again.Select(c => c.Box));
        // Same seed, other split: other digits (columns 80-99 of the sheet instead of 0-79), so other pixels.
        Assert.NotEqual(train.Select(c => c.Image.Pixels.ToArray()), test.Select(c => c.Image.Pixels.ToArray()));
    }

    [Fact]
    public void DigitClass_WithoutTheSheet_ThrowsNamingTheSetupScript()
    {
        var generator = new DetectionCanvases(DetectionCanvases.FindDataDirectory());
        var error = Assert.Throws<ArgumentException>(() => generator.Generate("train", 1, 1, ["digit-3"]));
        Assert.Contains("install-reference-tools.sh", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FullFashionMnist_ReadsTheIdxFilesIntoTheSameClassNames()
    {
        Assert.True(File.Exists(Path.Combine(DetectionCanvases.DebianFashionMnist, "train-images-idx3-ubyte.gz")), $"{DetectionCanvases.DebianFashionMnist} is missing: {Install}.");
        var generator = new DetectionCanvases(DetectionCanvases.FindDataDirectory(), DetectionCanvases.DebianFashionMnist);
        var canvases = generator.Generate("test", 30, 4);
        var folders = Directory.GetDirectories(Path.Combine(DetectionCanvases.FindDataDirectory(), "fashion-mnist", "test")).Select(Path.GetFileName).ToHashSet();
        Assert.All(canvases.SelectMany(c => c.Labels), l => Assert.Contains(l, folders));
        Assert.True(canvases.SelectMany(c => c.Labels).Distinct().Count() >= 8);
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using ML.DeepExtensions.Vision.Detection;
using Xunit;

namespace ML.DeepExtensions.Vision.Tests.Detection;

public sealed class BoxAugmentationTests
{
    private const int Size = 64;

    /// <summary>A black planar RGB image with a white rectangle filling exactly the box (10, 20, 30, 44).</summary>
    private static (byte[] Pixels, float[] Box) FilledRectangle()
    {
        var pixels = new byte[3 * Size * Size];
        for (var c = 0; c < 3; c++)
            for (var y = 20; y < 44; y++)
                for (var x = 10; x < 30; x++)
                    pixels[c * Size * Size + y * Size + x] = 255;
        return (pixels, [10, 20, 30, 44]);
    }

    /// <summary>The extent x0, y0, x1, y1 (exclusive ends) of the white pixels of channel 0, or null when there are none.</summary>
    private static float[]? WhiteExtent(ReadOnlySpan<float> values)
    {
        int x0 = int.MaxValue, y0 = int.MaxValue, x1 = -1, y1 = -1;
        for (var y = 0; y < Size; y++)
            for (var x = 0; x < Size; x++)
                if (values[y * Size + x] == 1f)
                    (x0, y0, x1, y1) = (Math.Min(x0, x), Math.Min(y0, y), Math.Max(x1, x + 1), Math.Max(y1, y + 1));
        return x1 < 0 ? null : [x0, y0, x1, y1];
    }

    [Fact]
    public void ScaleTranslateFlip_BoxStillEnclosesExactlyTheFilledPixels()
    {
        var (pixels, box) = FilledRectangle();
        var augmentation = new DetectionAugmentation(Flip: true, ScaleJitter: 0.5, TranslateJitter: 0.4);
        var random = new Random(3);
        var (kept, clipped, dropped) = (0, 0, 0);
        for (var trial = 0; trial < 200; trial++)
        {
            var draw = augmentation.Draw(random);
            var values = new float[3 * Size * Size];
            var (boxes, keptObjects) = BoxAugmentation.Apply(pixels, Size, box, draw, values);
            var white = WhiteExtent(values);
            if (keptObjects.Count == 0)
            {
                Assert.Null(white);
                dropped++;
                continue;
            }
            Assert.NotNull(white);
            Assert.Equal(white, boxes.ToArray());
            kept++;
            if (boxes.Contains(0) || boxes.Contains(Size))
                clipped++;
            // Pixels outside the image read the grey padding, never the rectangle's white or the background's black beyond it.
            Assert.All(values, v => Assert.True(v == 0 || v == 1 || v == 128 / 255f, $"unexpected value {v}"));
        }
        // The draws cover the cases: moved inside, clipped at a border, and (rarely) pushed out entirely.
        Assert.True(kept > 150, $"kept {kept}");
        Assert.True(clipped > 5, $"clipped {clipped}");
        Assert.InRange(dropped, 0, 40);
    }

    [Fact]
    public void ColorJitter_ChangesPixelsNotBoxes()
    {
        var (pixels, box) = FilledRectangle();
        for (var i = 0; i < pixels.Length; i++)
            pixels[i] = (byte)Math.Max(pixels[i], 40 + 50 * (i / (Size * Size)));   // a coloured background, so saturation acts
        var draw = new AugmentationDraw(false, 1, 0, 0, 1.2, 0.8, 1.3);
        var values = new float[3 * Size * Size];
        var (boxes, kept) = BoxAugmentation.Apply(pixels, Size, box, draw, values);
        Assert.Equal(box, boxes.ToArray());
        Assert.Equal([0], kept);
        var plain = pixels.Select(p => p / 255f).ToArray();
        Assert.True(values.Zip(plain).Count(p => Math.Abs(p.First - p.Second) > 0.01) > values.Length / 2);
        Assert.All(values, v => Assert.InRange(v, 0, 1));
    }

    [Fact]
    public void BatchSource_AugmentsOnlySeededTrainingPasses()
    {
        var (pixels, box) = FilledRectangle();
        var examples = Enumerable.Range(0, 4).Select(_ => new DetectionExample(pixels, box, [0])).ToList();
        var source = new DetectionBatchSource(examples, Size, new DetectionAugmentation(true, 0.3, 0.2, 0.2));
        (float[] Features, float[] Boxes) Pass(Random? shuffle)
        {
            using var batch = source.Batches(4, shuffle, CancellationToken.None).Single();
            return (batch.Features.data<float>().ToArray(), batch.Extras[DetectionBatchSource.BoxesKey].data<float>().ToArray());
        }
        var first = Pass(new Random(9));
        var again = Pass(new Random(9));
        var other = Pass(new Random(10));
        Assert.Equal(first.Features, again.Features);
        Assert.Equal(first.Boxes, again.Boxes);
        Assert.NotEqual(first.Boxes, other.Boxes);
        var scoring = Pass(null);
        Assert.Equal(Enumerable.Range(0, 4).SelectMany(_ => pixels.Select(p => p / 255f)), scoring.Features);
        Assert.Equal(Enumerable.Range(0, 4).SelectMany(_ => box), scoring.Boxes);
    }

    [Fact]
    public void Options_JitterOutOfRange_ThrowsNamingIt()
    {
        var ml = new MLContext();
        Assert.Equal("ScaleJitter", Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions { ScaleJitter = 1 })).ParamName);
        Assert.Equal("ColorJitter", Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions { ColorJitter = -0.1 })).ParamName);
    }

    [Fact]
    public void Fit_WithEveryAugmentation_TrainsAndReportsFiniteLoss()
    {
        var ml = new MLContext(seed: 2);
        var rows = DetectionTestData.Rows(DetectionTestData.Canvases.Generate("train", 16, 3, ["Trouser", "Bag"])).ToArray();
        var data = DetectionTestData.Load(ml, rows);
        var keyed = DetectionTestData.Keys(ml, data).Transform(data);
        using var model = ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions
        {
            Epochs = 2, BatchSize = 8, ImageSize = 64, ScaleJitter = 0.3, TranslateJitter = 0.2, ColorJitter = 0.3,
            Architecture = new AnchorFreeDetectorParameters { Width = 0.25 },
        }).Fit(keyed);
        Assert.All(model.History, h => Assert.True(double.IsFinite(h.Training["Loss"])));
    }

    /// <summary>A black planar RGB image with a white rectangle filling exactly <paramref name="box"/>.</summary>
    private static DetectionExample Rectangle(int x0, int y0, int x1, int y1, long label)
    {
        var pixels = new byte[3 * Size * Size];
        for (var c = 0; c < 3; c++)
            for (var y = y0; y < y1; y++)
                for (var x = x0; x < x1; x++)
                    pixels[c * Size * Size + y * Size + x] = 255;
        return new DetectionExample(pixels, [x0, y0, x1, y1], [label]);
    }

    [Fact]
    public void Mosaic_QuadrantsCopyTheImagesAroundTheCentre_BoxesEncloseExactlyTheirPixels()
    {
        var random = new Random(5);
        var (kept, clipped, dropped) = (0, 0, 0);
        for (var trial = 0; trial < 100; trial++)
        {
            var images = Enumerable.Range(0, 4).Select(q =>
            {
                var (w, h) = (random.Next(3, 30), random.Next(3, 30));
                var (x, y) = (random.Next(Size - w + 1), random.Next(Size - h + 1));
                return Rectangle(x, y, x + w, y + h, q);
            }).ToArray();
            var (cx, cy) = (random.Next(16, 49), random.Next(16, 49));
            var mosaic = MosaicAugmentation.Compose(images, cx, cy, Size);
            for (var q = 0; q < 4; q++)
            {
                // Every pixel of quadrant q is image q's pixel shifted by the quadrant's offset.
                var (left, right, top, bottom) = (q % 2 == 0 ? 0 : cx, q % 2 == 0 ? cx : Size, q < 2 ? 0 : cy, q < 2 ? cy : Size);
                var (dx, dy) = (q % 2 == 0 ? Size - cx : -cx, q < 2 ? Size - cy : -cy);
                for (var c = 0; c < 3; c++)
                    for (var y = top; y < bottom; y++)
                        for (var x = left; x < right; x++)
                            Assert.Equal(images[q].Pixels[c * Size * Size + (y + dy) * Size + x + dx], mosaic.Pixels[c * Size * Size + y * Size + x]);
                // Its rectangle's visible part, if any is kept, is exactly its box; a dropped one keeps < 10 % or < 2 px.
                var white = new List<(int X, int Y)>();
                for (var y = top; y < bottom; y++)
                    for (var x = left; x < right; x++)
                        if (mosaic.Pixels[y * Size + x] == 255)
                            white.Add((x, y));
                var at = Array.IndexOf(mosaic.Classes, (long)q);
                var area = (images[q].Boxes[2] - images[q].Boxes[0]) * (images[q].Boxes[3] - images[q].Boxes[1]);
                if (at < 0)
                {
                    var (w, h) = white.Count == 0 ? (0, 0) : (white.Max(p => p.X) - white.Min(p => p.X) + 1, white.Max(p => p.Y) - white.Min(p => p.Y) + 1);
                    Assert.True(w < 2 || h < 2 || w * h < 0.1 * area, $"trial {trial}: quadrant {q} dropped a {w}×{h} part of a box of area {area}");
                    dropped++;
                    continue;
                }
                Assert.Equal(new float[] { white.Min(p => p.X), white.Min(p => p.Y), white.Max(p => p.X) + 1, white.Max(p => p.Y) + 1 }, mosaic.Boxes.AsSpan(4 * at, 4).ToArray());
                kept++;
                if (white.Count < area)
                    clipped++;
            }
        }
        Assert.True(kept > 50 && clipped > 10 && dropped > 10, $"kept {kept}, clipped {clipped}, dropped {dropped}");
    }

    [Fact]
    public void BatchSource_Mosaic_IsSeededAndOnlyInTrainingPasses()
    {
        var examples = Enumerable.Range(0, 8).Select(i => Rectangle(4 * i, 2 * i, 4 * i + 20, 2 * i + 24, i % 3)).ToList();
        var source = new DetectionBatchSource(examples, Size, new DetectionAugmentation(false, Mosaic: 1));
        (float[] Features, float[] Boxes) Pass(Random? shuffle)
        {
            using var batch = source.Batches(8, shuffle, CancellationToken.None).Single();
            return (batch.Features.data<float>().ToArray(), batch.Extras[DetectionBatchSource.BoxesKey].data<float>().ToArray());
        }
        var first = Pass(new Random(9));
        Assert.Equal(first.Features, Pass(new Random(9)).Features);
        Assert.Equal(first.Boxes, Pass(new Random(9)).Boxes);
        Assert.NotEqual(first.Features, Pass(new Random(10)).Features);
        var plain = Enumerable.Range(0, 8).SelectMany(i => examples[i].Pixels.Select(p => p / 255f)).ToArray();
        Assert.NotEqual(plain, first.Features);
        Assert.Equal(plain, Pass(null).Features);
    }

    [Fact]
    public void Options_MosaicOutOfRange_ThrowsNamingIt()
    {
        var ml = new MLContext();
        Assert.Equal("Mosaic", Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions { Mosaic = 1.5 })).ParamName);
    }

    [Fact]
    public void Fit_WithMosaicAndPyramid_TrainsAndReportsFiniteLoss()
    {
        var ml = new MLContext(seed: 2);
        var rows = DetectionTestData.Rows(DetectionTestData.Canvases.Generate("train", 16, 3, ["Trouser", "Bag"])).ToArray();
        var data = DetectionTestData.Load(ml, rows);
        var keyed = DetectionTestData.Keys(ml, data).Transform(data);
        using var model = ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions
        {
            Epochs = 2, BatchSize = 8, ImageSize = 64, Mosaic = 0.5, ScaleJitter = 0.2,
            Architecture = new AnchorFreeDetectorParameters { Width = 0.25, PyramidLevels = 3 },
        }).Fit(keyed);
        Assert.All(model.History, h => Assert.True(double.IsFinite(h.Training["Loss"])));
    }
}

using System;
using System.Collections.Generic;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>Training-only augmentation settings of the detector (all off at 0).</summary>
/// <param name="Flip">Horizontal flip with probability 1/2.</param>
/// <param name="ScaleJitter">Scale factor drawn uniformly from [1 − j, 1 + j].</param>
/// <param name="TranslateJitter">Shift in each axis drawn uniformly from [−j, j] × the input side.</param>
/// <param name="ColorJitter">Brightness, contrast and saturation factors each drawn uniformly from [1 − j, 1 + j].</param>
/// <param name="Mosaic">Probability that an image becomes a mosaic of itself and three others (<see cref="MosaicAugmentation"/>).</param>
internal sealed record DetectionAugmentation(bool Flip, double ScaleJitter = 0, double TranslateJitter = 0, double ColorJitter = 0, double Mosaic = 0)
{
    /// <summary>One image's mosaic draw from <paramref name="random"/> among <paramref name="count"/> images of side
    /// <paramref name="size"/>, or null (no mosaic); draws nothing when <see cref="Mosaic"/> is 0.</summary>
    public MosaicDraw? DrawMosaic(Random random, int count, int size)
    {
        if (!(Mosaic > 0) || random.NextDouble() >= Mosaic)
            return null;
        var partners = new[] { random.Next(count), random.Next(count), random.Next(count) };
        var (cx, cy) = (random.Next(size / 4, size - size / 4 + 1), random.Next(size / 4, size - size / 4 + 1));
        return new MosaicDraw(partners, cx, cy);
    }

    public bool Geometric => ScaleJitter > 0 || TranslateJitter > 0;

    /// <summary>One image's random draw from <paramref name="random"/>; draws nothing for a disabled setting, so that
    /// enabling none of the new settings leaves the flip sequence of earlier versions unchanged.</summary>
    public AugmentationDraw Draw(Random random)
    {
        var flip = Flip && random.NextDouble() < 0.5;
        var scale = ScaleJitter > 0 ? 1 + ScaleJitter * (2 * random.NextDouble() - 1) : 1;
        var (dx, dy) = TranslateJitter > 0 ? (TranslateJitter * (2 * random.NextDouble() - 1), TranslateJitter * (2 * random.NextDouble() - 1)) : (0, 0);
        var (brightness, contrast, saturation) = ColorJitter > 0
            ? (1 + ColorJitter * (2 * random.NextDouble() - 1), 1 + ColorJitter * (2 * random.NextDouble() - 1), 1 + ColorJitter * (2 * random.NextDouble() - 1))
            : (1, 1, 1);
        return new AugmentationDraw(flip, scale, dx, dy, brightness, contrast, saturation);
    }
}

/// <summary>One image's augmentation: flip, then scale by <paramref name="Scale"/> about the origin and shift by
/// (<paramref name="Dx"/>, <paramref name="Dy"/>) × side, then colour factors.</summary>
internal readonly record struct AugmentationDraw(bool Flip, double Scale, double Dx, double Dy, double Brightness, double Contrast, double Saturation)
{
    public static AugmentationDraw None => new(false, 1, 0, 0, 1, 1, 1);
}

/// <summary>A mosaic: the three other images (indices into the training examples) and the centre point where the four quadrants meet.</summary>
internal sealed record MosaicDraw(int[] Partners, int CenterX, int CenterY);

/// <summary>
/// Mosaic augmentation (YOLOv4/YOLOv5) for fixed-size letterboxed images: a centre point (cx, cy) splits the output into four
/// quadrants; image q fills quadrant q (top-left, top-right, bottom-left, bottom-right) with its own pixels that lie against
/// the centre — the top-left quadrant shows the first image's bottom-right corner region, and so on — at scale 1, so pixels
/// are copied, not resampled. A box moves by its image's offset and is clipped to its quadrant; it is kept when at least 2
/// pixels of width and height and 10 % of its area remain (YOLOv5's <c>box_candidates</c> rule).
/// </summary>
internal static class MosaicAugmentation
{
    private const float MinimumSide = 2;
    private const float MinimumAreaFraction = 0.1f;

    /// <summary>The mosaic of four planar-RGB images of side <paramref name="size"/> (the first is the image being augmented)
    /// as a new example.</summary>
    public static DetectionExample Compose(DetectionExample[] images, int cx, int cy, int size)
    {
        if (images.Length != 4)
            throw new ArgumentException($"A mosaic needs 4 images. Received: {images.Length}", nameof(images));
        var plane = size * size;
        var pixels = new byte[3 * plane];
        var boxes = new List<float>();
        var classes = new List<long>();
        for (var q = 0; q < 4; q++)
        {
            // Output pixel (x, y) of quadrant q reads pixel (x + dx, y + dy) of image q.
            var (left, right) = q % 2 == 0 ? (0, cx) : (cx, size);
            var (top, bottom) = q < 2 ? (0, cy) : (cy, size);
            var (dx, dy) = (q % 2 == 0 ? size - cx : -cx, q < 2 ? size - cy : -cy);
            var source = images[q];
            for (var c = 0; c < 3; c++)
                for (var y = top; y < bottom; y++)
                    Array.Copy(source.Pixels, c * plane + (y + dy) * size + left + dx, pixels, c * plane + y * size + left, right - left);
            for (var k = 0; k < source.Classes.Length; k++)
            {
                var (x0, y0, x1, y1) = (source.Boxes[4 * k] - dx, source.Boxes[4 * k + 1] - dy, source.Boxes[4 * k + 2] - dx, source.Boxes[4 * k + 3] - dy);
                var (a0, b0, a1, b1) = (Math.Max(x0, left), Math.Max(y0, top), Math.Min(x1, right), Math.Min(y1, bottom));
                if (a1 - a0 < MinimumSide || b1 - b0 < MinimumSide || (a1 - a0) * (b1 - b0) < MinimumAreaFraction * (x1 - x0) * (y1 - y0))
                    continue;
                boxes.AddRange([a0, b0, a1, b1]);
                classes.Add(source.Classes[k]);
            }
        }
        return new DetectionExample(pixels, boxes.ToArray(), classes.ToArray());
    }
}

/// <summary>
/// Box-aware augmentation of one letterboxed image (planar RGB bytes, side <c>size</c>) and its boxes. Geometry is sampled
/// nearest-neighbour: output pixel i reads the (flipped) source pixel ⌊(i + ½ − t) / s⌋, or the grey padding outside the image.
/// Boxes move by the same map and snap to the pixels that sampling fills — a source box [x0, x1) becomes
/// [⌈s·x0 + t − ½⌉, ⌈s·x1 + t − ½⌉) — so a box drawn around exactly the filled pixels still encloses exactly them; boxes are
/// clipped to the image and dropped when nothing of them remains. Colour jitter (brightness, then contrast about the image's
/// mean grey, then saturation about each pixel's grey; clamped to [0, 1]) moves no box.
/// </summary>
internal static class BoxAugmentation
{
    private const float Padding = 128 / 255f;

    /// <summary>Writes the augmented pixels in [0, 1] to <paramref name="destination"/> (3·size² values); returns the kept
    /// boxes (x0, y0, x1, y1 each) and the indices of the objects they belong to.</summary>
    public static (List<float> Boxes, List<int> Kept) Apply(byte[] pixels, int size, float[] boxes, AugmentationDraw draw, Span<float> destination)
    {
        var plane = size * size;
        var s = draw.Scale;
        var (tx, ty) = (draw.Dx * size, draw.Dy * size);
        var source = new int[size];
        var sourceY = new int[size];
        for (var i = 0; i < size; i++)
        {
            var x = (int)Math.Floor((i + 0.5 - tx) / s);
            source[i] = x < 0 || x >= size ? -1 : draw.Flip ? size - 1 - x : x;
            var y = (int)Math.Floor((i + 0.5 - ty) / s);
            sourceY[i] = y < 0 || y >= size ? -1 : y;
        }
        // Row by row (the source row is fixed along a row); without a horizontal map (no flip, scale or shift: every
        // validation pass and unaugmented training) a row is a straight conversion. Same values as pixel by pixel.
        var identityColumns = true;
        for (var i = 0; i < size && identityColumns; i++)
            identityColumns = source[i] == i;
        for (var c = 0; c < 3; c++)
            for (var y = 0; y < size; y++)
            {
                var row = destination.Slice(c * plane + y * size, size);
                if (sourceY[y] < 0)
                {
                    row.Fill(Padding);
                    continue;
                }
                var from = pixels.AsSpan(c * plane + sourceY[y] * size, size);
                if (identityColumns)
                {
                    for (var x = 0; x < row.Length; x++)
                        row[x] = from[x] / 255f;
                }
                else
                {
                    for (var x = 0; x < row.Length; x++)
                        row[x] = source[x] < 0 ? Padding : from[source[x]] / 255f;
                }
            }
        if (draw.Brightness != 1 || draw.Contrast != 1 || draw.Saturation != 1)
            Colour(destination[..(3 * plane)], plane, draw);

        var kept = new List<int>();
        var moved = new List<float>();
        for (var k = 0; k < boxes.Length / 4; k++)
        {
            var (x0, y0, x1, y1) = (boxes[4 * k], boxes[4 * k + 1], boxes[4 * k + 2], boxes[4 * k + 3]);
            if (draw.Flip)
                (x0, x1) = (size - x1, size - x0);
            var geometric = s != 1 || tx != 0 || ty != 0;
            var (a0, b0, a1, b1) = geometric ? (Snap(s * x0 + tx), Snap(s * y0 + ty), Snap(s * x1 + tx), Snap(s * y1 + ty)) : (x0, y0, x1, y1);
            (a0, b0, a1, b1) = (Math.Clamp(a0, 0, size), Math.Clamp(b0, 0, size), Math.Clamp(a1, 0, size), Math.Clamp(b1, 0, size));
            if (a1 <= a0 || b1 <= b0)
                continue;
            kept.Add(k);
            moved.AddRange([a0, b0, a1, b1]);
        }
        return (moved, kept);
    }

    /// <summary>The first pixel edge whose pixel centre lies at or after <paramref name="edge"/>. Only used with a geometric draw:
    /// without one (scale 1, no shift) a box only flips and real-valued boxes stay as given.</summary>
    private static float Snap(double edge) => (float)Math.Ceiling(edge - 0.5);

    private static void Colour(Span<float> values, int plane, AugmentationDraw draw)
    {
        var mean = 0.0;
        for (var p = 0; p < plane; p++)
            mean += Grey(values, plane, p);
        mean = mean / plane * draw.Brightness;
        for (var p = 0; p < plane; p++)
        {
            for (var c = 0; c < 3; c++)
            {
                var v = values[c * plane + p] * draw.Brightness;
                values[c * plane + p] = (float)((v - mean) * draw.Contrast + mean);
            }
            var grey = Grey(values, plane, p);
            for (var c = 0; c < 3; c++)
                values[c * plane + p] = (float)Math.Clamp(grey + (values[c * plane + p] - grey) * draw.Saturation, 0, 1);
        }
    }

    private static double Grey(Span<float> values, int plane, int p) => 0.299 * values[p] + 0.587 * values[plane + p] + 0.114 * values[2 * plane + p];
}

using System;
using System.Collections.Generic;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>Training-only augmentation settings of the detector (all off at 0).</summary>
/// <param name="Flip">Horizontal flip with probability 1/2.</param>
/// <param name="ScaleJitter">Scale factor drawn uniformly from [1 − j, 1 + j].</param>
/// <param name="TranslateJitter">Shift in each axis drawn uniformly from [−j, j] × the input side.</param>
/// <param name="ColorJitter">Brightness, contrast and saturation factors each drawn uniformly from [1 − j, 1 + j].</param>
internal sealed record DetectionAugmentation(bool Flip, double ScaleJitter = 0, double TranslateJitter = 0, double ColorJitter = 0)
{
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
        for (var c = 0; c < 3; c++)
            for (var y = 0; y < size; y++)
                for (var x = 0; x < size; x++)
                {
                    var (sx, sy) = (source[x], sourceY[y]);
                    destination[c * plane + y * size + x] = sx < 0 || sy < 0 ? Padding : pixels[c * plane + sy * size + sx] / 255f;
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

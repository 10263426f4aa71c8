using System;
using System.Collections.Generic;
using System.Globalization;
using Microsoft.ML.Data;
using SkiaSharp;

namespace ML.DeepExtensions.Vision.Detection;

/// <summary>Draws detections (and, optionally, the true boxes) on an image, for a look at what a detector does.</summary>
public static class DetectionDrawing
{
    /// <summary>
    /// A copy of <paramref name="image"/> with each detection's box drawn in a colour per class and labelled
    /// "class score", and each true box (when given) drawn as a thin white frame with its class name. Save it with
    /// <c>MLImage.Save("file.png")</c>.
    /// </summary>
    /// <param name="image">The image the detections are in (pixel coordinates).</param>
    /// <param name="detections">Detections, e.g. from <see cref="ObjectDetectorTransformer.Detect(System.Collections.Generic.IReadOnlyList{MLImage})"/>.</param>
    /// <param name="trueLabels">Class names of the true objects, or null.</param>
    /// <param name="trueBoxes">x0, y0, x1, y1 per true object, or null.</param>
    /// <exception cref="ArgumentException">The true boxes do not hold four values per true label.</exception>
    public static MLImage Draw(MLImage image, IReadOnlyList<DetectedObject> detections, IReadOnlyList<string>? trueLabels = null, IReadOnlyList<float>? trueBoxes = null)
    {
        Guard.NotNull(image);
        Guard.NotNull(detections);
        if ((trueBoxes?.Count ?? 0) != 4 * (trueLabels?.Count ?? 0))
            throw new ArgumentException($"Expected four true box values per true label. Received: {trueBoxes?.Count ?? 0} values for {trueLabels?.Count ?? 0} labels.", nameof(trueBoxes));
        var (width, height) = (image.Width, image.Height);
        var pixels = image.Pixels.ToArray();
        var colorType = image.PixelFormat == MLPixelFormat.Rgba32 ? SKColorType.Rgba8888 : SKColorType.Bgra8888;
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, colorType, SKAlphaType.Unpremul));
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using (var canvas = new SKCanvas(bitmap))
        {
            var textSize = Math.Max(8, Math.Min(width, height) / 16f);
            using var font = new SKPaint { TextSize = textSize, IsAntialias = true, Color = SKColors.White };
            using var truth = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = 1, Color = SKColors.White, IsAntialias = true };
            for (var i = 0; i < (trueLabels?.Count ?? 0); i++)
            {
                var box = new SKRect(trueBoxes![4 * i], trueBoxes[4 * i + 1], trueBoxes[4 * i + 2], trueBoxes[4 * i + 3]);
                canvas.DrawRect(box, truth);
                canvas.DrawText(trueLabels![i], box.Left + 1, box.Bottom - 2, font);
            }
            foreach (var d in detections)
            {
                var color = Palette[(int)((d.Label - 1) % Palette.Length)];
                using var stroke = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1.5f, width / 200f), Color = color, IsAntialias = true };
                using var fill = new SKPaint { Style = SKPaintStyle.Fill, Color = color };
                var box = new SKRect(d.X0, d.Y0, d.X1, d.Y1);
                canvas.DrawRect(box, stroke);
                var text = string.Create(CultureInfo.InvariantCulture, $"{d.ClassName} {d.Score:0.00}");
                var textWidth = font.MeasureText(text);
                canvas.DrawRect(new SKRect(box.Left, box.Top - textSize, box.Left + textWidth + 2, box.Top), fill);
                canvas.DrawText(text, box.Left + 1, box.Top - 2, font);
            }
        }
        var output = new byte[pixels.Length];
        System.Runtime.InteropServices.Marshal.Copy(bitmap.GetPixels(), output, 0, output.Length);
        return MLImage.CreateFromPixels(width, height, image.PixelFormat, output);
    }

    private static readonly SKColor[] Palette =
    [
        new(230, 25, 75), new(60, 180, 75), new(0, 130, 200), new(245, 130, 48), new(145, 30, 180),
        new(70, 240, 240), new(240, 50, 230), new(210, 245, 60), new(250, 190, 212), new(0, 128, 128),
    ];
}

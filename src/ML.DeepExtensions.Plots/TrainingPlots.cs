using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using ML.DeepExtensions.Training;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace ML.DeepExtensions.Plots;

/// <summary>
/// PNG pictures of a training run, drawn with OxyPlot on SkiaSharp (headless; no display needed): learning
/// curves from a model's <see cref="EpochMetrics"/> history and a confusion matrix from ML.NET's evaluator.
/// Files are written to a temporary name and then moved, so a failed write never leaves half a picture.
/// </summary>
public static class TrainingPlots
{
    /// <summary>Training series colour (loss): blue <c>#1F77B4</c>.</summary>
    public static readonly OxyColor TrainingLossColor = OxyColor.FromRgb(0x1F, 0x77, 0xB4);

    /// <summary>Validation series colour (loss): red <c>#D62728</c>.</summary>
    public static readonly OxyColor ValidationLossColor = OxyColor.FromRgb(0xD6, 0x27, 0x28);

    /// <summary>Training series colour (accuracy or perplexity): orange <c>#FF7F0E</c>.</summary>
    public static readonly OxyColor TrainingMetricColor = OxyColor.FromRgb(0xFF, 0x7F, 0x0E);

    /// <summary>Validation series colour (accuracy or perplexity): green <c>#2CA02C</c>.</summary>
    public static readonly OxyColor ValidationMetricColor = OxyColor.FromRgb(0x2C, 0xA0, 0x2C);

    /// <summary>
    /// Loss (left axis) and, on the right axis, perplexity when recorded (language models) or else accuracy when
    /// recorded, per epoch, training and validation — four colours and two marker shapes, so every series tells itself
    /// apart in the legend too. Epochs are whole-numbered ticks; a dashed vertical line marks <paramref name="markEpoch"/>,
    /// by default the epoch of the lowest validation loss (the one early stopping restores when it monitors the loss).
    /// </summary>
    /// <param name="history">The epochs, e.g. <c>model.GetTrainingHistory()</c>.</param>
    /// <param name="path">PNG file to write (its directory must exist).</param>
    /// <param name="title">Title above the plot.</param>
    /// <param name="width">Width in pixels (default 900).</param>
    /// <param name="height">Height in pixels (default 500).</param>
    /// <param name="markEpoch">The epoch to mark (e.g. the restored one); null marks the lowest validation loss, 0 marks none.</param>
    public static void SaveLearningCurves(IReadOnlyList<EpochMetrics> history, string path, string title = "Learning curves", int width = 900, int height = 500, int? markEpoch = null)
    {
        Guard.NotNull(history);
        if (history.Count == 0)
            throw new ArgumentException("history has no epochs to plot.", nameof(history));
        Save(LearningCurves(history, title, markEpoch), path, width, height);
    }

    /// <summary>The plot of <see cref="SaveLearningCurves"/>.</summary>
    internal static PlotModel LearningCurves(IReadOnlyList<EpochMetrics> history, string title, int? markEpoch)
    {
        var model = new PlotModel { Title = title, Background = OxyColors.White };
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.RightMiddle, LegendPlacement = LegendPlacement.Outside, LegendSymbolLength = 30 });
        var last = history.Max(e => e.Epoch);
        var step = Math.Max(1, Math.Ceiling(last / 10.0));
        model.Axes.Add(new LinearAxis
        {
            Position = AxisPosition.Bottom, Title = "Epoch", Minimum = 1, Maximum = Math.Max(2, last), MajorStep = step, MinorStep = step,
            StringFormat = "0", MajorGridlineStyle = LineStyle.Dot,
        });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "Loss", Key = "loss", MajorGridlineStyle = LineStyle.Dot });
        bool Has(string metric) => history.Any(e => e.Training.ContainsKey(metric) || e.Validation.ContainsKey(metric));
        var metric = Has("Perplexity") ? "Perplexity" : Has("Accuracy") ? "Accuracy" : null;
        if (metric == "Accuracy")
            model.Axes.Add(new LinearAxis { Position = AxisPosition.Right, Title = "Accuracy", Key = "metric", Minimum = 0, Maximum = 1 });
        else if (metric is not null)
            model.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Right, Title = metric, Key = "metric" });

        AddSeries(model, history, e => e.Training, "Loss", "Training loss", "loss", TrainingLossColor, LineStyle.Solid, MarkerType.Circle);
        AddSeries(model, history, e => e.Validation, "Loss", "Validation loss", "loss", ValidationLossColor, LineStyle.Dash, MarkerType.Square);
        if (metric is not null)
        {
            var name = metric.ToLowerInvariant();
            AddSeries(model, history, e => e.Training, metric, $"Training {name}", "metric", TrainingMetricColor, LineStyle.Solid, MarkerType.Circle);
            AddSeries(model, history, e => e.Validation, metric, $"Validation {name}", "metric", ValidationMetricColor, LineStyle.Dash, MarkerType.Square);
        }

        var mark = markEpoch ?? history.Where(e => e.ValidationLoss is { } v && double.IsFinite(v)).MinBy(e => e.ValidationLoss)?.Epoch;
        if (mark is { } epoch and > 0)
        {
            model.Annotations.Add(new OxyPlot.Annotations.LineAnnotation
            {
                Type = OxyPlot.Annotations.LineAnnotationType.Vertical, X = epoch, Color = OxyColors.Gray, LineStyle = LineStyle.Dash,
                Text = markEpoch is null ? $"lowest validation loss (epoch {epoch})" : $"epoch {epoch}", TextColor = OxyColors.DimGray,
            });
        }
        return model;
    }

    /// <summary>A confusion matrix as a heat map with counts, rows = true class, columns = predicted class.</summary>
    /// <param name="matrix">From <c>mlContext.MulticlassClassification.Evaluate(...).ConfusionMatrix</c>.</param>
    /// <param name="classNames">Names in key order (e.g. the model's <c>ClassNames</c>); null numbers the classes.</param>
    /// <param name="path">PNG file to write (its directory must exist).</param>
    /// <param name="title">Title above the plot.</param>
    /// <param name="size">Width and height in pixels (default 700).</param>
    public static void SaveConfusionMatrix(ConfusionMatrix matrix, IReadOnlyList<string>? classNames, string path, string title = "Confusion matrix", int size = 700)
    {
        Guard.NotNull(matrix);
        var k = matrix.NumberOfClasses;
        if (classNames is not null && classNames.Count != k)
            throw new ArgumentException($"classNames has {classNames.Count} names but the matrix has {k} classes.", nameof(classNames));
        var names = classNames ?? Enumerable.Range(0, k).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var counts = new double[k, k];
        for (var truth = 0; truth < k; truth++)
        {
            for (var predicted = 0; predicted < k; predicted++)
                counts[predicted, truth] = matrix.Counts[truth][predicted];
        }

        var model = new PlotModel { Title = title, Background = OxyColors.White };
        model.Axes.Add(new CategoryAxis { Position = AxisPosition.Bottom, Title = "Predicted", ItemsSource = names, Angle = -45 });
        model.Axes.Add(new CategoryAxis { Position = AxisPosition.Left, Title = "True", ItemsSource = names, StartPosition = 1, EndPosition = 0 });
        model.Axes.Add(new LinearColorAxis { Position = AxisPosition.Right, Palette = OxyPalette.Interpolate(200, OxyColors.White, OxyColors.SteelBlue, OxyColors.MidnightBlue), Minimum = 0 });
        model.Series.Add(new HeatMapSeries
        {
            X0 = 0,
            X1 = k - 1,
            Y0 = 0,
            Y1 = k - 1,
            Data = counts,
            Interpolate = false,
            RenderMethod = HeatMapRenderMethod.Rectangles,
            LabelFontSize = 0.25,
            LabelFormatString = "0",
        });
        Save(model, path, size, size);
    }

    /// <summary>
    /// Writes a spectrogram (e.g. a log-mel spectrogram from <c>AudioFeatures.Compute</c>: frames × bins) as a heat map with
    /// time on the horizontal axis, and <paramref name="caption"/> (e.g. the decoded transcript) printed under it.
    /// </summary>
    /// <param name="frames">One array of bin values per frame; every frame has the same length.</param>
    /// <param name="path">The PNG file to write (its directory must exist).</param>
    /// <param name="title">Title above the picture.</param>
    /// <param name="caption">Text under the picture, or null.</param>
    /// <param name="secondsPerFrame">Frame hop in seconds, &gt; 0 (default 0.01).</param>
    public static void SaveSpectrogram(IReadOnlyList<float[]> frames, string path, string title = "Spectrogram", string? caption = null, double secondsPerFrame = 0.01)
    {
        Guard.NotNull(frames);
        Guard.Positive(secondsPerFrame);
        if (frames.Count == 0 || frames[0] is not { Length: > 0 } first || frames.Any(f => f is null || f.Length != first.Length))
            throw new ArgumentException("A spectrogram needs at least one frame, all with the same number of bins.", nameof(frames));
        var bins = first.Length;
        var data = new double[frames.Count, bins];
        for (var t = 0; t < frames.Count; t++)
        {
            for (var b = 0; b < bins; b++)
                data[t, b] = frames[t][b];
        }
        var model = new PlotModel { Title = title, Background = OxyColors.White };
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = caption ?? "time (s)", TitleFontSize = 16, TitleFontWeight = FontWeights.Bold });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "bin" });
        model.Axes.Add(new LinearColorAxis { Position = AxisPosition.Right, Palette = OxyPalettes.Viridis(200) });
        model.Series.Add(new HeatMapSeries
        {
            X0 = 0,
            X1 = (frames.Count - 1) * secondsPerFrame,
            Y0 = 0,
            Y1 = bins - 1,
            Data = data,
            Interpolate = false,
            RenderMethod = HeatMapRenderMethod.Bitmap,
        });
        Save(model, path, 900, 450);
    }

    private static void AddSeries(PlotModel model, IReadOnlyList<EpochMetrics> history, Func<EpochMetrics, IReadOnlyDictionary<string, double>> metrics,
        string metric, string title, string axis, OxyColor color, LineStyle style, MarkerType marker)
    {
        var points = history.Where(e => metrics(e).TryGetValue(metric, out var v) && double.IsFinite(v))
            .Select(e => new DataPoint(e.Epoch, metrics(e)[metric])).ToList();
        if (points.Count == 0)
            return;
        var series = new LineSeries { Title = title, YAxisKey = axis, Color = color, LineStyle = style, StrokeThickness = 2, MarkerType = marker, MarkerSize = 4, MarkerFill = color };
        series.Points.AddRange(points);
        model.Series.Add(series);
    }

    private static void Save(PlotModel model, string path, int width, int height)
    {
        Guard.NotEmpty(path);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Cannot write '{full}': the directory '{directory}' does not exist.");
        var temporary = full + ".tmp";
        using (var stream = File.Create(temporary))
            OxyPlot.SkiaSharp.PngExporter.Export(model, stream, width, height);
        File.Move(temporary, full, overwrite: true);
    }
}

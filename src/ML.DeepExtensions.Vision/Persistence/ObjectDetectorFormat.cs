using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Detection;

namespace ML.DeepExtensions.Vision.Persistence;

/// <summary>
/// How an <see cref="ObjectDetectorTransformer"/> lives in an ML.NET model zip: a JSON header (image column, input shape,
/// network, class names, decoding settings, output names, history) and its integrity record in the model stream, the weights
/// in a binary stream (<see cref="ModelFormat"/>'s checks on load). Versioned through ML.NET's <c>VersionInfo</c>.
/// </summary>
internal static class ObjectDetectorFormat
{
    public const string LoaderSignature = "MLDX.ObjectDetector";
    private const string ModelSignature = "MLDXODET";
    private const uint Version1 = 0x00010001;

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: ModelSignature,
        verWrittenCur: Version1,
        verReadableCur: Version1,
        verWeCanReadBack: Version1,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(ObjectDetectorFormat).Assembly.GetName().Name);

    private sealed record Header(string ImageColumn, int[] InputShape, string Network, string[] ClassNames, double ScoreThreshold, double IouThreshold,
        int MaxDetections, string PredictedLabelColumn, string ScoreColumn, string BoxColumn, int ScoringBatchSize, List<EpochMetrics> History);

    public static void Save(ModelSaveContext ctx, ObjectDetectorTransformer transformer)
    {
        MLNetInternals.SelfCheck();
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        var d = transformer.Decoding;
        var o = transformer.Outputs;
        var header = new Header(transformer.ImageColumnName, transformer.Model.InputShape, transformer.Network.ToJson(), transformer.ClassNames.ToArray(),
            d.ScoreThreshold, d.IouThreshold, d.MaxDetections, o.PredictedLabel, o.Score, o.PredictedBoundingBoxes, transformer.ScoringBatchSize,
            new List<EpochMetrics>(transformer.History));
        JsonHeader.Write(ctx, header, [(ModelFormat.WeightsStream, ModelFormat.SerializeWeights(transformer.Model))]);
    }

    /// <summary>Called by ML.NET's component catalog when a zip names <see cref="LoaderSignature"/>.</summary>
    public static ObjectDetectorTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        var stored = JsonHeader.Read<Header>(ctx, "object-detector", hashed: true);
        var h = stored.Header;
        if (Problem(h) is { } problem)
            throw stored.HeaderDamaged(problem);
        var model = ModelFormat.LoadNetwork(env, stored, h.Network, h.InputShape, "object-detector");
        var architecture = ObjectDetectorTransformer.ArchitectureOf(model.Network);
        var cells = (h.InputShape[1] / DetectionArchitectures.Stride) * (h.InputShape[2] / DetectionArchitectures.Stride);
        var output = model.Network.OutputShape(h.InputShape);
        var expected = architecture switch
        {
            DetectionArchitectures.FasterRcnnName => new[] { output.Length == 2 ? Math.Max(output[0], FasterRcnnGeometry.AnchorCount(h.InputShape[1]) + 1) : 0, FasterRcnnGeometry.RowWidth(h.ClassNames.Length) },
            DetectionArchitectures.SsdName => new[] { SsdGeometry.PriorCount(h.InputShape[1]), 5 + h.ClassNames.Length },
            // The anchor-free head predicts on the stride-8 map alone or on the three-level pyramid (PyramidLevels 3).
            _ => new[] { output.Length == 2 && output[0] == PyramidDetectionHeadLayer.Rows(h.InputShape[1]) && h.InputShape[1] == h.InputShape[2] ? output[0] : cells, 4 + h.ClassNames.Length },
        };
        if (!output.SequenceEqual(expected))
        {
            model.Dispose();
            throw stored.HeaderDamaged($"has a header with {h.ClassNames.Length} class names whose network does not output {Shape.Format(expected)} per image");
        }
        return new ObjectDetectorTransformer(env, model, h.ClassNames, h.ImageColumn, new DetectionDecoding(h.ScoreThreshold, h.IouThreshold, h.MaxDetections),
            new DetectionColumnNames(h.PredictedLabelColumn, h.ScoreColumn, h.BoxColumn), h.History, h.ScoringBatchSize);
    }

    /// <summary>What is wrong with the header's own fields, or null.</summary>
    private static string? Problem(Header h)
    {
        if (string.IsNullOrWhiteSpace(h.ImageColumn) || string.IsNullOrWhiteSpace(h.PredictedLabelColumn) || string.IsNullOrWhiteSpace(h.ScoreColumn) || string.IsNullOrWhiteSpace(h.BoxColumn))
            return "has a header with an empty column name";
        if (h.Network is null || h.InputShape is not { Length: 3 } || h.InputShape[0] != 3 || h.InputShape[1] <= 0 || h.InputShape[1] != h.InputShape[2] || h.InputShape[1] % DetectionArchitectures.Stride != 0)
            return "has a header without a network or a square RGB input shape whose side is a multiple of 8";
        if (h.ClassNames is not { Length: > 0 } || h.ClassNames.Any(c => c is null))
            return "has a header without class names";
        if (!(h.ScoreThreshold >= 0 && h.ScoreThreshold < 1) || !(h.IouThreshold > 0 && h.IouThreshold <= 1) || h.MaxDetections <= 0 || h.ScoringBatchSize <= 0)
            return "has a header whose decoding settings are out of range";
        if (h.History is null || h.History.Any(x => x is null))
            return "has a header without a training history";
        return null;
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Audio.Persistence;

/// <summary>
/// How a <see cref="SpeechRecognitionTransformer"/> lives in an ML.NET model zip: a JSON header (columns, feature settings,
/// vocabulary, decoder, network, history) and its integrity record (SHA-256 of the header and of the weights) in the model
/// stream, the weights in a binary stream. Loading validates the header (features, vocabulary, input shape, the network's
/// output against the vocabulary) before the network is built (<see cref="ModelFormat.LoadNetwork"/>).
/// </summary>
internal static class SpeechRecognizerFormat
{
    public const string LoaderSignature = "MLDX.SpeechRecognizer";
    private const string ModelSignature = "MLDXSPCH";
    private const uint Version1 = 0x00010001;
    // Version 2 adds the word list and its penalty; a version-1 reader would silently drop them, so it must refuse.
    private const uint Version2 = 0x00010002;

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: ModelSignature,
        verWrittenCur: Version2,
        verReadableCur: Version2,
        verWeCanReadBack: Version1,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(SpeechRecognizerFormat).Assembly.GetName().Name);

    /// <remarks><c>OutOfListWordPenalty</c> null means +∞ (JSON has no infinity).</remarks>
    private sealed record Header(string AudioColumn, string OutputColumn, int[] InputShape, string Network, AudioFeatureOptions Features,
        string Vocabulary, CtcDecoder Decoder, int BeamWidth, List<EpochMetrics> History, string[]? WordList = null, double? OutOfListWordPenalty = null);

    public static void Save(ModelSaveContext ctx, SpeechRecognitionTransformer transformer)
    {
        MLNetInternals.SelfCheck();
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        var header = new Header(transformer.AudioColumnName, transformer.OutputColumnName, transformer.Model.InputShape, transformer.Network.ToJson(),
            transformer.Features, transformer.Vocabulary, transformer.Decoder, transformer.BeamWidth, new List<EpochMetrics>(transformer.History),
            transformer.WordList?.ToArray(), double.IsPositiveInfinity(transformer.OutOfListWordPenalty) ? null : transformer.OutOfListWordPenalty);
        JsonHeader.Write(ctx, header, [(ModelFormat.WeightsStream, ModelFormat.SerializeWeights(transformer.Model))]);
    }

    /// <summary>Called by ML.NET's component catalog when a zip names <see cref="LoaderSignature"/>.</summary>
    public static SpeechRecognitionTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        var stored = JsonHeader.Read<Header>(ctx, "speech-recognizer", hashed: true);
        var header = stored.Header;
        if (Problem(header) is { } problem)
            throw stored.HeaderDamaged(problem);
        var vocabulary = new CharacterVocabulary(header.Vocabulary);
        var expectedInput = SpeechRecognitionTask.InputShape(header.Features);
        if (!header.InputShape.AsSpan().SequenceEqual(expectedInput))
            throw stored.HeaderDamaged($"has a header whose input shape {Shape.Format(header.InputShape)} does not match its features {Shape.Format(expectedInput)}");
        int[]? output = null;
        try
        {
            output = Network.FromJson(header.Network).OutputShape(header.InputShape);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or InvalidOperationException or KeyNotFoundException)
        {
            // ModelFormat.LoadNetwork reports an invalid description.
        }
        if (output is not null && !output.AsSpan().SequenceEqual(new[] { vocabulary.Classes }))
            throw stored.HeaderDamaged($"has a header whose network outputs {Shape.Format(output)} per frame, not one score per vocabulary character and the blank ({vocabulary.Classes})");
        var model = ModelFormat.LoadNetwork(env, stored, header.Network, header.InputShape, "speech-recognizer");
        return new SpeechRecognitionTransformer(env, model, vocabulary, header.Features, header.AudioColumn, header.OutputColumn, header.Decoder, header.BeamWidth, header.History,
            ownsModel: true, header.WordList, header.OutOfListWordPenalty ?? double.PositiveInfinity);
    }

    private static string? Problem(Header header)
    {
        if (string.IsNullOrWhiteSpace(header.AudioColumn) || string.IsNullOrWhiteSpace(header.OutputColumn))
            return "has a header whose audio or output column name is empty";
        if (header.Network is null || header.InputShape is null || header.Features is null || header.Vocabulary is null)
            return "has a header without a network, input shape, feature settings or vocabulary";
        if (header.History is null || header.History.Any(h => h is null))
            return "has a header without a training history";
        if (!Enum.IsDefined(header.Decoder) || header.BeamWidth <= 0)
            return $"has a header whose decoder ({header.Decoder}, beam width {header.BeamWidth}) is not valid";
        try
        {
            header.Features.Validate();
            var vocabulary = new CharacterVocabulary(header.Vocabulary);
            if (header.WordList is not null)
            {
                if (header.Decoder != CtcDecoder.PrefixBeamSearch)
                    return $"has a header with a word list but decoder {header.Decoder}";
                _ = CtcWordList.From(header.WordList, vocabulary, header.OutOfListWordPenalty ?? double.PositiveInfinity);
            }
        }
        catch (ArgumentException ex)
        {
            return $"has a header whose feature settings, vocabulary or word list are not valid: {ex.Message}";
        }
        return header.Vocabulary.Length == 0 ? "has a header with an empty vocabulary" : null;
    }
}

/// <summary>How an <see cref="AudioLoadingTransformer"/> lives in an ML.NET model zip: its columns, folder and sample rate as a JSON header.</summary>
internal static class AudioLoadingFormat
{
    public const string LoaderSignature = "MLDX.AudioLoader";
    private const string ModelSignature = "MLDXWAVL";
    private const uint Version1 = 0x00010001;

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: ModelSignature,
        verWrittenCur: Version1,
        verReadableCur: Version1,
        verWeCanReadBack: Version1,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(AudioLoadingFormat).Assembly.GetName().Name);

    private sealed record Header(string OutputColumn, string InputColumn, string? Folder, int SampleRate);

    public static void Save(ModelSaveContext ctx, AudioLoadingTransformer transformer)
    {
        MLNetInternals.SelfCheck();
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        JsonHeader.Write(ctx, new Header(transformer.OutputColumnName, transformer.InputColumnName, transformer.Folder, transformer.SampleRate), []);
    }

    public static AudioLoadingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        var stored = JsonHeader.Read<Header>(ctx, "audio-loader", hashed: true);
        var h = stored.Header;
        if (string.IsNullOrWhiteSpace(h.OutputColumn) || string.IsNullOrWhiteSpace(h.InputColumn) || h.SampleRate <= 0)
            throw stored.HeaderDamaged($"has a header with an empty column name or a sample rate that is not positive ({h.SampleRate})");
        return new AudioLoadingTransformer(env, h.OutputColumn, h.InputColumn, h.Folder, h.SampleRate);
    }
}

/// <summary>How an <see cref="AudioFeaturizingTransformer"/> lives in an ML.NET model zip: columns, frames and feature settings as a JSON header.</summary>
internal static class AudioFeaturizingFormat
{
    public const string LoaderSignature = "MLDX.AudioFeaturizer";
    private const string ModelSignature = "MLDXAFEA";
    private const uint Version1 = 0x00010001;

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: ModelSignature,
        verWrittenCur: Version1,
        verReadableCur: Version1,
        verWeCanReadBack: Version1,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(AudioFeaturizingFormat).Assembly.GetName().Name);

    private sealed record Header(string OutputColumn, string InputColumn, int Frames, AudioFeatureOptions Features);

    public static void Save(ModelSaveContext ctx, AudioFeaturizingTransformer transformer)
    {
        MLNetInternals.SelfCheck();
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        JsonHeader.Write(ctx, new Header(transformer.OutputColumnName, transformer.InputColumnName, transformer.Frames, transformer.Features), []);
    }

    public static AudioFeaturizingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        var stored = JsonHeader.Read<Header>(ctx, "audio-featurizer", hashed: true);
        var h = stored.Header;
        if (string.IsNullOrWhiteSpace(h.OutputColumn) || string.IsNullOrWhiteSpace(h.InputColumn) || h.Frames <= 0 || h.Features is null)
            throw stored.HeaderDamaged($"has a header with an empty column name, no feature settings or frames that are not positive ({h.Frames})");
        try
        {
            h.Features.Validate();
        }
        catch (ArgumentException ex)
        {
            throw stored.HeaderDamaged($"has a header whose feature settings are not valid: {ex.Message}");
        }
        return new AudioFeaturizingTransformer(env, h.OutputColumn, h.InputColumn, h.Frames, h.Features);
    }
}

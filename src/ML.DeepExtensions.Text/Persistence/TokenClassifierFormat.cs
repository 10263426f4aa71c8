using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text.Tagging;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Text.Persistence;

/// <summary>
/// How a <see cref="NeuralTokenClassifierTransformer"/> lives in an ML.NET model zip, as <see cref="LanguageModelFormat"/>: a
/// JSON header (columns, network, classes, history) with its integrity record, the WordPiece tokenizer as a nested model in
/// <c>Tokenizer</c>, and the weights. Loading checks the header against the tokenizer and the network before trusting it.
/// </summary>
internal static class TokenClassifierFormat
{
    public const string LoaderSignature = "MLDX.TokenClassifier";
    private const string TokenizerFolder = "Tokenizer";

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "MLDXTOKC",
        verWrittenCur: 0x00010001,
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(TokenClassifierFormat).Assembly.GetName().Name);

    private sealed record Header(string SentenceColumn, string OutputColumn, int[] InputShape, string Network, string[] ClassNames, string ClassValueType,
        List<EpochMetrics> History);

    public static void Save(ModelSaveContext ctx, NeuralTokenClassifierTransformer transformer)
    {
        MLNetInternals.SelfCheck();
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        var header = new Header(transformer.SentenceColumnName, transformer.OutputColumnName, transformer.Model.InputShape, transformer.Network.ToJson(),
            transformer.ClassNames.ToArray(), transformer.ClassValueType, transformer.History.ToList());
        ctx.SaveModel(transformer.Tokenizer, TokenizerFolder);
        JsonHeader.Write(ctx, header, [(ModelFormat.WeightsStream, ModelFormat.SerializeWeights(transformer.Model))]);
    }

    /// <summary>Called by ML.NET's component catalog when a zip names <see cref="LoaderSignature"/>.</summary>
    public static NeuralTokenClassifierTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        var stored = JsonHeader.Read<Header>(ctx, "token-classifier", hashed: true);
        var header = stored.Header;
        if (Problem(header) is { } problem)
            throw stored.HeaderDamaged(problem);
        ctx.LoadModel<TokenizingTransformer, SignatureLoadModel>(env, out var tokenizer, TokenizerFolder);
        if (tokenizer.Kind != TokenizerKind.WordPiece || !header.InputShape.AsSpan().SequenceEqual([tokenizer.MaxLength]))
            throw stored.HeaderDamaged($"has a header whose input shape {Shape.Format(header.InputShape)} does not fit its {tokenizer.Kind} tokenizer of length {tokenizer.MaxLength}");
        var model = ModelFormat.LoadNetwork(env, stored, header.Network, header.InputShape, "token-classifier");
        var expected = new[] { tokenizer.MaxLength, header.ClassNames.Length };
        if (!model.Network.OutputShape(header.InputShape).AsSpan().SequenceEqual(expected))
        {
            model.Dispose();
            throw stored.HeaderDamaged($"has a network that outputs {Shape.Format(model.Network.OutputShape(header.InputShape))} per sentence, not one logit per class at each position {Shape.Format(expected)}");
        }
        return new NeuralTokenClassifierTransformer(env, tokenizer, model, header.SentenceColumn, header.OutputColumn, header.ClassNames, header.ClassValueType, header.History);
    }

    private static string? Problem(Header header)
    {
        if (string.IsNullOrWhiteSpace(header.SentenceColumn) || string.IsNullOrWhiteSpace(header.OutputColumn))
            return "has a header with an empty column name";
        if (header.Network is null || header.InputShape is null)
            return "has a header without a network or input shape";
        if (header.ClassNames is null || header.ClassNames.Length < 2 || header.ClassNames.Any(c => c is null))
            return "has a header without at least 2 class names";
        if (ClassValues.Problem(header.ClassValueType ?? "", header.ClassNames) is { } classes)
            return classes;
        if (header.History is null || header.History.Any(h => h is null))
            return "has a header without a training history";
        return null;
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Text.Persistence;

/// <summary>
/// How a <see cref="LanguageModelTransformer"/> lives in an ML.NET model zip: a JSON header (token column, network,
/// generation settings, history) in the model stream, the tokenizer as a nested model (its own format, in the
/// sub-folder <c>Tokenizer</c>) and the weights in a binary stream; from version 3 an integrity record (SHA-256 of the header
/// and of the weights) follows the header. Loading validates the header against the tokenizer and the network as
/// <see cref="ModelFormat"/> does. Versioned through ML.NET's <c>VersionInfo</c>.
/// </summary>
internal static class LanguageModelFormat
{
    public const string LoaderSignature = "MLDX.LanguageModel";
    private const string ModelSignature = "MLDXLMOD";
    private const string TokenizerFolder = "Tokenizer";
    private const uint Version1 = 0x00010001;
    /// <summary>The network JSON records the assembly of its Transformer layer (<c>ML.DeepExtensions.Text</c>, see
    /// <see cref="LayerRegistry"/>); version-1 networks name none and are found by their layer names. Version-1 code reads
    /// version 2: the layer names are unchanged and it ignores the extra property.</summary>
    private const uint Version2 = 0x00010002;
    /// <summary>An integrity record (SHA-256 of the header and of the weights) follows the header; loading requires it from
    /// this version on. Earlier code cannot read version 3 (its model stream does not end after the header).</summary>
    private const uint Version3 = 0x00010003;

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: ModelSignature,
        verWrittenCur: Version3,
        verReadableCur: Version3,
        verWeCanReadBack: Version1,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(LanguageModelFormat).Assembly.GetName().Name);

    private sealed record Header(string TokenColumn, int[] InputShape, string Network, GenerationOptions Generation, List<EpochMetrics> History);

    public static void Save(ModelSaveContext ctx, LanguageModelTransformer transformer)
    {
        MLNetInternals.SelfCheck();
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        var header = new Header(transformer.TokenColumnName, transformer.Model.InputShape, transformer.Network.ToJson(), transformer.Generation, new List<EpochMetrics>(transformer.History));
        ctx.SaveModel(transformer.Tokenizer, TokenizerFolder);
        JsonHeader.Write(ctx, header, [(ModelFormat.WeightsStream, ModelFormat.SerializeWeights(transformer.Model))]);
    }

    /// <summary>Called by ML.NET's component catalog when a zip names <see cref="LoaderSignature"/>.</summary>
    public static LanguageModelTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        var stored = JsonHeader.Read<Header>(ctx, "language-model", hashed: ctx.Header.ModelVerWritten >= Version3);
        var header = stored.Header;
        if (Problem(header) is { } problem)
            throw stored.HeaderDamaged(problem);
        ctx.LoadModel<TokenizingTransformer, SignatureLoadModel>(env, out var tokenizer, TokenizerFolder);
        var expectedInput = new[] { tokenizer.MaxLength };
        if (!header.InputShape.AsSpan().SequenceEqual(expectedInput))
            throw stored.HeaderDamaged($"has a header whose input shape {Shape.Format(header.InputShape)} is not its tokenizer's length {Shape.Format(expectedInput)}");
        // One logit per vocabulary entry at each position, checked on the description before anything is built.
        var expectedOutput = new[] { tokenizer.MaxLength, tokenizer.VocabularySize };
        if (OutputShape(header.Network, header.InputShape) is { } output && !output.AsSpan().SequenceEqual(expectedOutput))
            throw stored.HeaderDamaged($"has a header whose network outputs {Shape.Format(output)} per text, not one logit per token of its tokenizer's " +
                                       $"vocabulary at each position {Shape.Format(expectedOutput)}");
        var model = ModelFormat.LoadNetwork(env, stored, header.Network, header.InputShape, "language-model");
        return new LanguageModelTransformer(env, tokenizer, model, header.TokenColumn, header.Generation, header.History);
    }

    /// <summary>The output shape of the described network, or null when the description is not valid (<see cref="ModelFormat.LoadNetwork"/> says why).</summary>
    private static int[]? OutputShape(string networkJson, int[] inputShape)
    {
        try
        {
            return Network.FromJson(networkJson).OutputShape(inputShape);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or InvalidOperationException
                                       or KeyNotFoundException or FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            return null;
        }
    }

    /// <summary>What is wrong with the header's own fields, or null.</summary>
    private static string? Problem(Header header)
    {
        if (string.IsNullOrWhiteSpace(header.TokenColumn))
            return "has a header whose token column name is empty";
        if (header.Network is null || header.InputShape is null)
            return "has a header without a network or input shape";
        if (header.History is null || header.History.Any(h => h is null))
            return "has a header without a training history";
        if (header.Generation is null)
            return "has a header without generation settings";
        try
        {
            header.Generation.Validate();
        }
        catch (ArgumentException ex)
        {
            return $"has a header whose generation settings are not valid: {ex.Message}";
        }
        return null;
    }
}

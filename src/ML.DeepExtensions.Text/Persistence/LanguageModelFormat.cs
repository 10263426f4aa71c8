using System;
using System.Collections.Generic;
using System.IO;
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
/// sub-folder <c>Tokenizer</c>) and the weights in a binary stream. Versioned through ML.NET's <c>VersionInfo</c>.
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

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: ModelSignature,
        verWrittenCur: Version2,
        verReadableCur: Version1,
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
        JsonHeader.Write(ctx, header);
        ctx.SaveModel(transformer.Tokenizer, TokenizerFolder);
        ModelFormat.SaveWeights(ctx, transformer.Model);
    }

    /// <summary>Called by ML.NET's component catalog when a zip names <see cref="LoaderSignature"/>.</summary>
    public static LanguageModelTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        var header = JsonHeader.Read<Header>(ctx, "language-model");
        ctx.LoadModel<TokenizingTransformer, SignatureLoadModel>(env, out var tokenizer, TokenizerFolder);
        var model = ModelFormat.LoadNetwork(env, ctx, header.Network, header.InputShape, "language-model");
        return new LanguageModelTransformer(env, tokenizer, model, header.TokenColumn, header.Generation, header.History);
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Training;

#pragma warning disable CS0436
[assembly: Microsoft.ML.LoadableClass(typeof(LanguageModelTransformer), typeof(ML.DeepExtensions.Text.Persistence.LanguageModelFormat), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Language Model Transformer", ML.DeepExtensions.Text.Persistence.LanguageModelFormat.LoaderSignature)]
#pragma warning restore CS0436

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

/// <summary>ML.NET's row-mapping data view around <see cref="ContinuationRowMapper"/> (batched cursors, PredictionEngine).</summary>
internal static class LanguageModelInterop
{
    public static DataViewSchema OutputSchema(LanguageModelTransformer transformer, DataViewSchema inputSchema)
        => RowToRowMapperTransform.GetOutputSchema(inputSchema, new ContinuationRowMapper(transformer, inputSchema));

    public static IRowToRowMapper RowToRowMapper(LanguageModelTransformer transformer, DataViewSchema inputSchema)
    {
        var env = transformer.Environment;
        return new RowToRowMapperTransform(env, new EmptyDataView(env, inputSchema), new ContinuationRowMapper(transformer, inputSchema),
            schema => new ContinuationRowMapper(transformer, schema));
    }

    public static IDataView Transform(LanguageModelTransformer transformer, IDataView input)
        => new RowToRowMapperTransform(transformer.Environment, input, new ContinuationRowMapper(transformer, input.Schema),
            schema => new ContinuationRowMapper(transformer, schema));
}

/// <summary>Generates the continuation of the current row's prompt once per cursor position.</summary>
internal sealed class ContinuationRowMapper : IRowMapper
{
    private readonly LanguageModelTransformer _parent;
    private readonly int _promptIndex;

    public ContinuationRowMapper(LanguageModelTransformer parent, DataViewSchema inputSchema)
    {
        TextColumn.Check(inputSchema, parent.PromptColumnName);
        _parent = parent;
        _promptIndex = inputSchema[parent.PromptColumnName].Index;
    }

    public DataViewSchema.DetachedColumn[] GetOutputColumns() => [new(_parent.OutputColumnName, TextDataViewType.Instance)];

    public Func<int, bool> GetDependencies(Func<int, bool> activeOutput)
    {
        var active = activeOutput(0);
        return column => active && column == _promptIndex;
    }

    public Delegate[] CreateGetters(DataViewRow input, Func<int, bool> activeOutput, out Action disposer)
    {
        disposer = () => { };
        if (!activeOutput(0))
            return new Delegate[1];
        var prompt = input.GetGetter<ReadOnlyMemory<char>>(input.Schema[_promptIndex]);
        var text = default(ReadOnlyMemory<char>);
        long position = -1;
        var continuation = ReadOnlyMemory<char>.Empty;
        ValueGetter<ReadOnlyMemory<char>> getter = (ref ReadOnlyMemory<char> value) =>
        {
            // PredictionEngine rows stay at position -1: generate every time there.
            if (position != input.Position || position < 0)
            {
                prompt(ref text);
                continuation = _parent.Generate(text.ToString()).AsMemory();
                position = input.Position;
            }
            value = continuation;
        };
        return [getter];
    }

    public ITransformer GetTransformer() => _parent;

    void ICanSaveModel.Save(ModelSaveContext ctx) => LanguageModelFormat.Save(ctx, _parent);
}

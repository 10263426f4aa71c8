using System;
using System.IO;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Text.Tokenization;

namespace ML.DeepExtensions.Text.Persistence;

/// <summary>
/// How a <see cref="TokenizingTransformer"/> lives in an ML.NET model zip: a JSON header (columns, length policy,
/// tokenizer kind and settings, learned words) in the model stream, and the bytes of user-supplied vocabulary and
/// merges files in binary streams beside it, so a loaded model needs none of the original files. Tiktoken
/// vocabularies come from the Microsoft.ML.Tokenizers.Data packages at load time. Versioned through ML.NET's
/// <c>VersionInfo</c>; the loader assembly is recorded by simple name.
/// </summary>
internal static class TokenizerFormat
{
    public const string LoaderSignature = "MLDX.Tokenizer";
    private const string ModelSignature = "MLDXTOKN";
    private const string VocabularyStream = "Vocabulary.bin";
    private const string MergesStream = "Merges.bin";
    private const uint Version1 = 0x00010001;

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: ModelSignature,
        verWrittenCur: Version1,
        verReadableCur: Version1,
        verWeCanReadBack: Version1,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(TokenizerFormat).Assembly.GetName().Name);

    private sealed record Header(TokenizationSettings Settings, TokenizerDefinition Tokenizer, bool HasVocabularyFile, bool HasMergesFile);

    public static void Save(ModelSaveContext ctx, TokenizingTransformer transformer)
    {
        MLNetInternals.SelfCheck();
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        var definition = transformer.Tokenizer.Definition;
        var header = new Header(transformer.Settings, definition, definition.VocabularyFile is not null, definition.MergesFile is not null);
        JsonHeader.Write(ctx, header);
        if (definition.VocabularyFile is { } vocabulary)
            ctx.SaveBinaryStream(VocabularyStream, writer => WriteBytes(writer, vocabulary));
        if (definition.MergesFile is { } merges)
            ctx.SaveBinaryStream(MergesStream, writer => WriteBytes(writer, merges));
    }

    /// <summary>Called by ML.NET's component catalog when a zip names <see cref="LoaderSignature"/>.</summary>
    public static TokenizingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        var header = JsonHeader.Read<Header>(ctx, "tokenizer");

        var definition = header.Tokenizer with
        {
            VocabularyFile = header.HasVocabularyFile ? ReadStream(ctx, VocabularyStream) : null,
            MergesFile = header.HasMergesFile ? ReadStream(ctx, MergesStream) : null,
        };
        return new TokenizingTransformer(env, TextTokenizer.Create(definition), header.Settings);
    }

    private static void WriteBytes(BinaryWriter writer, byte[] bytes)
    {
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    private static byte[] ReadStream(ModelLoadContext ctx, string name)
    {
        byte[]? bytes = null;
        if (!ctx.TryLoadBinaryStream(name, reader => bytes = reader.ReadBytes(reader.ReadInt32())))
            throw new InvalidDataException($"The model has no '{name}' stream: the zip is incomplete.");
        return bytes!;
    }
}

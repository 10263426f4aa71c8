using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Text.Tokenization;

namespace ML.DeepExtensions.Text.Persistence;

/// <summary>
/// How a <see cref="TokenizingTransformer"/> lives in an ML.NET model zip: a JSON header (columns, length policy,
/// tokenizer kind and settings, learned words) in the model stream, followed by its integrity record (SHA-256 of the
/// header and of each stream), and the bytes of user-supplied vocabulary and merges files in binary streams beside it, so
/// a loaded model needs none of the original files. Tiktoken vocabularies come from the Microsoft.ML.Tokenizers.Data
/// packages at load time. Versioned through ML.NET's <c>VersionInfo</c>; the loader assembly is recorded by simple name.
/// </summary>
internal static class TokenizerFormat
{
    public const string LoaderSignature = "MLDX.Tokenizer";
    private const string ModelSignature = "MLDXTOKN";
    private const string VocabularyStream = "Vocabulary.bin";
    private const string MergesStream = "Merges.bin";
    private const uint Version1 = 0x00010001;
    /// <summary>An integrity record (SHA-256 of the header and of each stream) follows the header; loading requires it from
    /// this version on. Version-1 code cannot read it (its model stream does not end after the header).</summary>
    private const uint Version2 = 0x00010002;

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: ModelSignature,
        verWrittenCur: Version2,
        verReadableCur: Version2,
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
        var streams = new List<(string, byte[])>();
        if (definition.VocabularyFile is { } vocabulary)
            streams.Add((VocabularyStream, LengthPrefixed(vocabulary)));
        if (definition.MergesFile is { } merges)
            streams.Add((MergesStream, LengthPrefixed(merges)));
        JsonHeader.Write(ctx, header, streams);
    }

    /// <summary>Called by ML.NET's component catalog when a zip names <see cref="LoaderSignature"/>.</summary>
    public static TokenizingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        var stored = JsonHeader.Read<Header>(ctx, "tokenizer", hashed: ctx.Header.ModelVerWritten >= Version2);
        var header = stored.Header;
        if (Problem(header) is { } problem)
            throw stored.HeaderDamaged(problem);

        var definition = header.Tokenizer with
        {
            VocabularyFile = header.HasVocabularyFile ? ReadFile(stored, VocabularyStream, "the vocabulary file") : null,
            MergesFile = header.HasMergesFile ? ReadFile(stored, MergesStream, "the merges file") : null,
        };
        TextTokenizer tokenizer;
        try
        {
            tokenizer = TextTokenizer.Create(definition);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidDataException or FormatException or InvalidOperationException
                                       or KeyNotFoundException or System.Text.Json.JsonException or IndexOutOfRangeException or OverflowException)
        {
            throw stored.HeaderDamaged($"describes a {definition.Kind} tokenizer that cannot be built from its header and vocabulary: {ex.Message}", ex);
        }
        var settings = header.Settings;
        if (settings.MaxLength <= tokenizer.SpecialTokenCount)
            throw stored.HeaderDamaged($"has a header whose maxLength={settings.MaxLength} leaves no room beside the tokenizer's {tokenizer.SpecialTokenCount} special token(s)");
        return new TokenizingTransformer(env, tokenizer, settings);
    }

    /// <summary>What is wrong with the header's own fields, or null.</summary>
    private static string? Problem(Header header)
    {
        if (header.Settings is not { } settings || header.Tokenizer is not { } tokenizer)
            return "has a header without tokenization settings or tokenizer";
        if (string.IsNullOrWhiteSpace(settings.InputColumnName) || string.IsNullOrWhiteSpace(settings.OutputColumnName))
            return "has a header with an empty input or output column name";
        if (settings.MaxLength <= 0)
            return $"has a header whose maxLength must be positive. Received: maxLength={settings.MaxLength}";
        if (!Enum.IsDefined(settings.Truncation))
            return $"has a header whose truncation {(int)settings.Truncation} is not KeepFirst or KeepLast";
        if (!Enum.IsDefined(tokenizer.Kind))
            return $"has a header whose tokenizer kind {(int)tokenizer.Kind} is not a TokenizerKind";
        var needsVocabulary = tokenizer.Kind is TokenizerKind.BytePairEncoding or TokenizerKind.WordPiece;
        var needsMerges = tokenizer.Kind == TokenizerKind.BytePairEncoding;
        if (header.HasVocabularyFile != needsVocabulary || header.HasMergesFile != needsMerges)
            return $"has a header that says a {tokenizer.Kind} tokenizer has {(header.HasVocabularyFile ? "a" : "no")} vocabulary file and " +
                   $"{(header.HasMergesFile ? "a" : "no")} merges file, but such a tokenizer has {(needsVocabulary ? "a" : "no")} vocabulary file and {(needsMerges ? "a" : "no")} merges file";
        if ((tokenizer.Kind == TokenizerKind.WordVocabulary) != (tokenizer.Words is not null))
            return tokenizer.Words is null ? "has a header without the learned word vocabulary" : $"has a header with a word list for a {tokenizer.Kind} tokenizer";
        if (tokenizer.Words is { } words && (words.Length < 2 || words.Any(string.IsNullOrEmpty)))
            return "has a header whose learned word vocabulary is shorter than its two special tokens or holds an empty word";
        return null;
    }

    private static byte[] LengthPrefixed(byte[] bytes)
    {
        var result = new byte[sizeof(int) + bytes.Length];
        BinaryPrimitives.WriteInt32LittleEndian(result, bytes.Length);
        bytes.CopyTo(result, sizeof(int));
        return result;
    }

    /// <summary>A file stored by <see cref="LengthPrefixed"/>: its length prefix must be the stream's length (older versions too,
    /// which have no hash: a damaged prefix must not silently cut the vocabulary short).</summary>
    private static byte[] ReadFile<T>(StoredModel<T> stored, string name, string description)
    {
        var content = stored.ReadStream(name, description);
        var length = content.Length >= sizeof(int) ? BinaryPrimitives.ReadInt32LittleEndian(content) : -1;
        if (length != content.Length - sizeof(int))
            throw ModelDamage.At(stored.Entry(name), $"({description}) says it holds {length} bytes but holds {Math.Max(0, content.Length - sizeof(int))}");
        return content[sizeof(int)..];
    }
}

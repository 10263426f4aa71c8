using System;
using System.Collections.Generic;

namespace ML.DeepExtensions.Text.Tokenization;

/// <summary>
/// Everything needed to rebuild a tokenizer, in a form the model zip stores: the kind and its settings (JSON)
/// and the bytes of user-supplied files (binary streams; the original files are never needed again).
/// <see cref="StripAccents"/> and <see cref="HuggingFaceSplitting"/> (WordPiece; Hugging Face's BERT tokenization) were added
/// after format version 2: definitions stored without them read as false, the behaviour they were trained with.
/// </summary>
internal sealed record TokenizerDefinition(
    TokenizerKind Kind,
    bool AppendEndOfText = false,
    bool ByteLevel = true,
    string? UnknownToken = null,
    bool LowerCase = false,
    bool AddSpecialTokens = false,
    string[]? Words = null,
    bool StripAccents = false,
    bool HuggingFaceSplitting = false)
{
    /// <summary>Bytes of the vocabulary file (BPE, WordPiece), else null. Not part of the JSON.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public byte[]? VocabularyFile { get; init; }

    /// <summary>Bytes of the merges file (BPE), else null. Not part of the JSON.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public byte[]? MergesFile { get; init; }
}

/// <summary>Column names and the length policy of a tokenizing transform.</summary>
internal sealed record TokenizationSettings(
    string InputColumnName,
    string OutputColumnName,
    int MaxLength,
    TruncationSide Truncation,
    bool AddLengthColumn,
    bool AddMaskColumn)
{
    public string? LengthColumnName => AddLengthColumn ? OutputColumnName + "Length" : null;

    public string? MaskColumnName => AddMaskColumn ? OutputColumnName + "Mask" : null;

    /// <summary>Validates the shared options and resolves the input column name.</summary>
    public static TokenizationSettings From(TokenizationOptions options, int specialTokens)
    {
        Guard.NotNull(options);
        var output = Guard.NotEmpty(options.OutputColumnName, nameof(options.OutputColumnName));
        var input = options.InputColumnName ?? output;
        Guard.NotEmpty(input, nameof(options.InputColumnName));
        var maxLength = Guard.Positive(options.MaxLength, nameof(options.MaxLength));
        if (maxLength <= specialTokens)
            throw new ArgumentOutOfRangeException(nameof(options.MaxLength), maxLength,
                $"MaxLength must leave room for at least one token beside the {specialTokens} special token(s) this tokenizer adds. Received: MaxLength={maxLength}");
        if (!Enum.IsDefined(options.Truncation))
            throw new ArgumentOutOfRangeException(nameof(options.Truncation), options.Truncation,
                $"Truncation must be KeepFirst or KeepLast. Received: Truncation={options.Truncation}");
        return new TokenizationSettings(input, output, maxLength, options.Truncation, options.AddLengthColumn, options.AddMaskColumn);
    }

    /// <summary>Names of the added columns, in schema order.</summary>
    public IEnumerable<string> OutputNames()
    {
        yield return OutputColumnName;
        if (LengthColumnName is { } length)
            yield return length;
        if (MaskColumnName is { } mask)
            yield return mask;
    }
}

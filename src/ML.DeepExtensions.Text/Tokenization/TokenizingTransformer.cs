using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Text.Interop;
using ML.DeepExtensions.Text.Persistence;

namespace ML.DeepExtensions.Text.Tokenization;

/// <summary>
/// Turns a text column (String) into a known-size vector of Int32 token ids of length <see cref="MaxLength"/>,
/// and optionally a length column (Int32) and a mask column (vector of Single, 1 for real tokens, 0 for padding).
/// </summary>
/// <remarks>
/// Length policy, the same for every tokenizer: the row holds the special prefix (BERT's [CLS]), the text's
/// tokens, the special suffix (BERT's [SEP], GPT-2's end-of-text when asked), then <see cref="PaddingId"/> up to
/// <see cref="MaxLength"/>. A text with more tokens than fit keeps its first tokens (or its last, per
/// <see cref="Truncation"/>); special tokens are never cut. An empty text (or one that yields no token, such as
/// white space only) gives all padding and length 0, without special tokens. Saved with
/// <c>mlContext.Model.Save</c> together with its vocabulary (user files are copied into the zip) and loaded back
/// as this type by <c>mlContext.Model.Load</c> in any process.
/// <para>
/// Work per row is bounded by <see cref="MaxLength"/>, not by the text: only the pre-tokens (words, punctuation
/// runs, white-space runs) at the kept end are encoded, so a megabyte of text takes about as long as the start (or end)
/// that survives. A single pre-token that cannot fit (such as a long run of one character) is encoded from a window at
/// its kept end only. A text that fits gets exactly the ids of <see cref="EncodeToIds"/>; an over-long text keeps the
/// same ids too, except that with <see cref="TruncationSide.KeepLast"/> the ids of such a windowed pre-token may split
/// its characters at other offsets than encoding all of it would.
/// </para>
/// <para>
/// Invalid UTF-16 (a lone surrogate) never fails the transform: the byte-level tokenizers encode it as its 3-byte
/// form, as Microsoft.ML.Tokenizers does; WordPiece reads it as U+FFFD, which BERT's normalizer drops.
/// </para>
/// </remarks>
public sealed class TokenizingTransformer : ITransformer
{
    private readonly IHostEnvironment _env;

    internal TokenizingTransformer(IHostEnvironment env, TextTokenizer tokenizer, TokenizationSettings settings)
    {
        _env = env;
        Tokenizer = tokenizer;
        Settings = settings;
    }

    /// <summary>Which tokenizer this is.</summary>
    public TokenizerKind Kind => Tokenizer.Definition.Kind;

    /// <summary>The text column (String).</summary>
    public string InputColumnName => Settings.InputColumnName;

    /// <summary>The token-id column: a vector of Int32 of size <see cref="MaxLength"/>.</summary>
    public string OutputColumnName => Settings.OutputColumnName;

    /// <summary>The length column (<c>&lt;output&gt;Length</c>, Int32) or null when not added.</summary>
    public string? LengthColumnName => Settings.LengthColumnName;

    /// <summary>The mask column (<c>&lt;output&gt;Mask</c>, vector of Single) or null when not added.</summary>
    public string? MaskColumnName => Settings.MaskColumnName;

    /// <summary>Token ids per row, special tokens included.</summary>
    public int MaxLength => Settings.MaxLength;

    /// <summary>Which tokens survive in an over-long text.</summary>
    public TruncationSide Truncation => Settings.Truncation;

    /// <summary>
    /// Number of distinct ids, padding included: every id in the output is in [0, VocabularySize). The size of a
    /// model's embedding table.
    /// </summary>
    public int VocabularySize => Tokenizer.VocabularySize;

    /// <summary>
    /// The id that fills a row after its tokens: [PAD] for WordPiece, 0 for the learned word vocabulary, and one
    /// past the largest token id for vocabularies without a padding token (GPT-2: 50257, cl100k: 100277, BPE files).
    /// </summary>
    public int PaddingId => Tokenizer.PaddingId;

    /// <summary>Special tokens of the vocabulary and their ids (e.g. [CLS], [SEP], [PAD], [MASK], [UNK]; &lt;|endoftext|&gt;).</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens => Tokenizer.SpecialTokens;

    /// <summary>Id of the unknown token (WordPiece [UNK], the word vocabulary's unknown token, classic BPE's when set), else null.</summary>
    public int? UnknownTokenId => Tokenizer.UnknownTokenId;

    /// <summary>Id of BERT's [CLS] (WordPiece only), else null.</summary>
    public int? ClassificationTokenId => Tokenizer.ClassificationTokenId;

    /// <summary>Id of BERT's [SEP] (WordPiece only), else null.</summary>
    public int? SeparatorTokenId => Tokenizer.SeparatorTokenId;

    /// <summary>Id of &lt;|endoftext|&gt; (GPT-2: 50256, cl100k: 100257, byte-level BPE when its vocabulary has it), else null.</summary>
    public int? EndOfTextId => Tokenizer.EndOfTextId;

    /// <summary>The learned words by id (id 0 padding, id 1 unknown) for <see cref="TokenizerKind.WordVocabulary"/>, else null.</summary>
    public IReadOnlyList<string>? Words => Tokenizer.Words?.Words;

    internal TextTokenizer Tokenizer { get; }

    internal TokenizationSettings Settings { get; }

    internal IHostEnvironment Environment => _env;

    /// <summary>
    /// Token ids of <paramref name="text"/> with the special tokens, neither truncated nor padded (empty text gives none).
    /// Encodes the whole text: BPE time grows with the square of the longest pre-token, unlike the transform's bounded rows.
    /// </summary>
    public int[] EncodeToIds(string text) => Tokenizer.EncodeToIds(Guard.NotNull(text).AsSpan());

    /// <summary>Text of token ids; padding ids are skipped.</summary>
    public string Decode(IEnumerable<int> ids) => Tokenizer.Decode(Guard.NotNull(ids));

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        Guard.NotNull(inputSchema);
        CheckInput(inputSchema);
        return TextInterop.OutputSchema(this, inputSchema);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        Guard.NotNull(inputSchema);
        CheckInput(inputSchema);
        return TextInterop.RowToRowMapper(this, inputSchema);
    }

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        Guard.NotNull(input);
        CheckInput(input.Schema);
        return TextInterop.Transform(this, input);
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless the input column exists and holds text.</summary>
    internal void CheckInput(DataViewSchema schema) => TextColumn.Check(schema, InputColumnName);

    void ICanSaveModel.Save(ModelSaveContext ctx) => TokenizerFormat.Save(ctx, this);
}

/// <summary>Checks of the text column, in the core's message shape.</summary>
internal static class TextColumn
{
    private const string Expected = "String (text; ReadOnlyMemory<char> in ML.NET's type system)";

    public static void Check(DataViewSchema schema, string name)
    {
        var column = SchemaChecks.Find(schema, "text", name);
        if (column.Type is not TextDataViewType)
            throw SchemaChecks.Mismatch("text", name, Expected, column.Type);
    }

    public static void Check(SchemaShape schema, string name)
    {
        var column = SchemaChecks.Find(schema, "text", name);
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not TextDataViewType)
            throw SchemaChecks.Mismatch("text", name, Expected, SchemaChecks.Describe(column));
    }

    /// <summary>A reader of <paramref name="row"/>'s current text in <paramref name="column"/>, as a string.</summary>
    public static Func<string> Reader(DataViewRow row, DataViewSchema.Column column)
    {
        var getter = row.GetGetter<ReadOnlyMemory<char>>(column);
        var text = default(ReadOnlyMemory<char>);
        return () =>
        {
            getter(ref text);
            return text.ToString();
        };
    }

    /// <summary>A row with no text would train on a sequence of padding only: say so, with the row, before training.</summary>
    public static void RejectEmpty(IDataView data, string columnName, string role)
    {
        var column = data.Schema[columnName];
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> value = default;
        long row = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            if (value.Span.IsWhiteSpace())
                throw new InvalidOperationException(
                    $"Text column '{columnName}' is empty in row {row} of the {role} data (null, empty or white space only; received '{value}'): " +
                    "expected text with at least one word. Remove such rows (mlContext.Data.FilterByCustomPredicate) or fill them before training.");
            row++;
        }
    }
}

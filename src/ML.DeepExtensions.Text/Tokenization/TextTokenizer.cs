using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Tokenizers;

namespace ML.DeepExtensions.Text.Tokenization;

/// <summary>
/// One tokenizer behind the transform: a Microsoft.ML.Tokenizers tokenizer (Tiktoken, BPE, BERT) or the learned
/// <see cref="WordVocabulary"/>, plus the special tokens wrapped around every text and the padding id.
/// Immutable and thread-safe (the library tokenizers are).
/// </summary>
internal sealed class TextTokenizer
{
    private readonly Tokenizer? _library;
    private readonly WordVocabulary? _words;
    private readonly int[] _prefix;
    private readonly int[] _suffix;

    private TextTokenizer(TokenizerDefinition definition, Tokenizer? library, WordVocabulary? words, int vocabularySize, int paddingId,
        IReadOnlyDictionary<string, int> specialTokens, int[] prefix, int[] suffix)
    {
        Definition = definition;
        _library = library;
        _words = words;
        VocabularySize = vocabularySize;
        PaddingId = paddingId;
        SpecialTokens = specialTokens;
        _prefix = prefix;
        _suffix = suffix;
    }

    public TokenizerDefinition Definition { get; }

    /// <summary>Number of distinct ids, padding included: every id is in [0, VocabularySize).</summary>
    public int VocabularySize { get; }

    public int PaddingId { get; }

    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>Special tokens added around every non-empty text.</summary>
    public int SpecialTokenCount => _prefix.Length + _suffix.Length;

    public int? UnknownTokenId { get; private init; }

    public int? ClassificationTokenId { get; private init; }

    public int? SeparatorTokenId { get; private init; }

    public int? EndOfTextId { get; private init; }

    public WordVocabulary? Words => _words;

    /// <summary>The Microsoft.ML.Tokenizers tokenizer, null for the learned word vocabulary.</summary>
    public Tokenizer? Library => _library;

    /// <summary>Builds the tokenizer a definition describes. File bytes come from the definition, never from disk.</summary>
    public static TextTokenizer Create(TokenizerDefinition definition)
    {
        switch (definition.Kind)
        {
            case TokenizerKind.Gpt2:
            case TokenizerKind.Cl100kBase:
            {
                var tiktoken = definition.Kind == TokenizerKind.Gpt2
                    ? TiktokenTokenizer.CreateForModel("gpt2")
                    : TiktokenTokenizer.CreateForEncoding("cl100k_base");
                var special = new Dictionary<string, int>(tiktoken.SpecialTokens ?? new Dictionary<string, int>());
                // OpenAI numbers the special tokens after every mergeable token, so the largest special id is the largest id.
                var maxId = special.Values.Max();
                int? endOfText = special.TryGetValue("<|endoftext|>", out var eot) ? eot : null;
                // No padding token in these vocabularies: padding gets the first id after them, so it never collides with a real token.
                var padding = maxId + 1;
                var suffix = definition.AppendEndOfText && endOfText is { } e ? new[] { e } : [];
                return new TextTokenizer(definition, tiktoken, null, padding + 1, padding, special, [], suffix)
                {
                    EndOfTextId = endOfText,
                    SpanBounds = () => TiktokenBounds(definition.Kind, tiktoken, maxId),
                };
            }
            case TokenizerKind.BytePairEncoding:
                return CreateBpe(definition);
            case TokenizerKind.WordPiece:
            {
                var vocabularyFile = Required(definition.VocabularyFile, "vocabulary");
                if (IsBlank(vocabularyFile))
                    throw new InvalidDataException("The WordPiece vocabulary file is empty: expected a BERT vocab.txt with one token per line " +
                        "(id = line number from 0), including [UNK], [CLS], [SEP], [PAD] and [MASK].");
                var bert = BertTokenizer.Create(new MemoryStream(vocabularyFile), new BertOptions
                {
                    LowerCaseBeforeTokenization = definition.LowerCase,
                    RemoveNonSpacingMarks = definition.StripAccents,
                    // Hugging Face's BERT splits every ASCII symbol off as punctuation ($ + < = > ^ ` | ~ too); the library's default
                    // pre-tokenizer drops those. Definitions stored before this option keep the tokenization they were trained with.
                    PreTokenizer = definition.HuggingFaceSplitting ? new RegexPreTokenizer(BertPunctuationPattern, null) : null,
                });
                var special = new Dictionary<string, int>
                {
                    [bert.ClassificationToken] = bert.ClassificationTokenId,
                    [bert.SeparatorToken] = bert.SeparatorTokenId,
                    [bert.PaddingToken] = bert.PaddingTokenId,
                    [bert.MaskingToken] = bert.MaskingTokenId,
                    [bert.UnknownToken] = bert.UnknownTokenId,
                };
                var size = LineCount(definition.VocabularyFile!);
                return new TextTokenizer(definition, bert, null, size, bert.PaddingTokenId, special,
                    definition.AddSpecialTokens ? [bert.ClassificationTokenId] : [],
                    definition.AddSpecialTokens ? [bert.SeparatorTokenId] : [])
                {
                    UnknownTokenId = bert.UnknownTokenId,
                    ClassificationTokenId = bert.ClassificationTokenId,
                    SeparatorTokenId = bert.SeparatorTokenId,
                };
            }
            case TokenizerKind.WordVocabulary:
            {
                var words = new WordVocabulary(definition.Words ?? throw new InvalidDataException("The word vocabulary is missing."), definition.LowerCase);
                var special = new Dictionary<string, int> { [words.Words[0]] = 0, [words.Words[1]] = 1 };
                return new TextTokenizer(definition, null, words, words.Words.Count, WordVocabulary.PaddingId, special, [], [])
                {
                    UnknownTokenId = WordVocabulary.UnknownId,
                };
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(definition), definition.Kind, $"Unknown tokenizer kind. Received: {definition.Kind}");
        }
    }

    private const string EndOfText = "<|endoftext|>";

    /// <summary>GPT-2's pre-tokenization (OpenAI's encoder.py).</summary>
    private static readonly System.Text.RegularExpressions.Regex Gpt2Pattern = new(
        @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", System.Text.RegularExpressions.RegexOptions.Compiled);

    private static List<string> MergeLines(byte[] merges)
        => System.Text.Encoding.UTF8.GetString(merges).Split('\n')
            .Select(line => line.TrimEnd('\r'))
            .Where(line => line.Length > 0 && !line.StartsWith("#version", StringComparison.Ordinal))
            .ToList();

    private const string BpeVocabularyExpected = "expected a JSON object mapping each token to its id (vocab.json, GPT-2's encoder.json)";

    private static TextTokenizer CreateBpe(TokenizerDefinition definition)
    {
        var vocabulary = Required(definition.VocabularyFile, "vocabulary");
        var merges = Required(definition.MergesFile, "merges");
        if (IsBlank(vocabulary))
            throw new InvalidDataException($"The BPE vocabulary file is empty: {BpeVocabularyExpected}.");
        var tokens = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(vocabulary)
            ?? throw new InvalidDataException($"The BPE vocabulary file holds no JSON object: {BpeVocabularyExpected}.");
        if (tokens.Count == 0)
            throw new InvalidDataException($"The BPE vocabulary file holds no tokens: {BpeVocabularyExpected}.");
        try
        {
            return definition.ByteLevel ? CreateByteLevelBpe(definition, tokens, merges) : CreateClassicBpe(definition, vocabulary, merges);
        }
        catch (InvalidOperationException ex)
        {
            // Merges naming tokens missing from the vocabulary, an unknown token missing from it.
            throw new InvalidDataException($"The BPE vocabulary and merges files do not fit together: {ex.Message}", ex);
        }
    }

    private static TextTokenizer CreateByteLevelBpe(TokenizerDefinition definition, Dictionary<string, int> tokens, byte[] merges)
    {
        // Microsoft.ML.Tokenizers' BPE in byte-level mode with GPT-2's pre-tokenization is GPT-2's encoder. (Its
        // CodeGenTokenizer is not: it maps runs of spaces to ids outside the vocabulary file.)
        var byteLevel = BpeTokenizer.Create(new BpeOptions(tokens)
        {
            Merges = MergeLines(merges),
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(Gpt2Pattern, null),
        });
        var special = new Dictionary<string, int>();
        int? endOfText = tokens.TryGetValue(EndOfText, out var eos) ? eos : null;
        if (endOfText is { } id)
            special[EndOfText] = id;
        var maxId = tokens.Values.Max();
        var byteBounds = new Lazy<TokenSpanBounds>(() => TokenSpanBounds.ForByteLevel(byteLevel.Vocabulary));
        return new TextTokenizer(definition, byteLevel, null, maxId + 2, maxId + 1, special, [], [])
        {
            EndOfTextId = endOfText,
            SpanBounds = () => byteBounds.Value,
        };
    }

    private static TextTokenizer CreateClassicBpe(TokenizerDefinition definition, byte[] vocabulary, byte[] merges)
    {
        var bpe = BpeTokenizer.Create(new MemoryStream(vocabulary), new MemoryStream(merges), PreTokenizer.CreateWordOrNonWord(), normalizer: null,
            specialTokens: null, unknownToken: definition.UnknownToken, continuingSubwordPrefix: null, endOfWordSuffix: null, fuseUnknownTokens: false);
        var classicMax = bpe.Vocabulary.Values.Max();
        var classicSpecial = new Dictionary<string, int>();
        int? unknown = definition.UnknownToken is { } unk && bpe.Vocabulary.TryGetValue(unk, out var unkId) ? unkId : null;
        if (definition.UnknownToken is { } token && unknown is { } u)
            classicSpecial[token] = u;
        var classicBounds = new Lazy<TokenSpanBounds>(() => TokenSpanBounds.ForClassicBpe(bpe.Vocabulary, bpe.UnknownToken));
        return new TextTokenizer(definition, bpe, null, classicMax + 2, classicMax + 1, classicSpecial, [], [])
        {
            UnknownTokenId = unknown,
            SpanBounds = () => classicBounds.Value,
        };
    }

    /// <summary>Hugging Face's BERT pre-tokenization: each punctuation character (Unicode P* or any ASCII non-alphanumeric symbol) alone, other runs of non-space characters as words.</summary>
    private static readonly System.Text.RegularExpressions.Regex BertPunctuationPattern =
        new(@"[\p{P}!-/:-@\[-`{-~]|[^\s\p{P}!-/:-@\[-`{-~]+", System.Text.RegularExpressions.RegexOptions.Compiled);

    private static int LineCount(byte[] file)
    {
        // WordPiece ids are line numbers of vocab.txt (as Microsoft.ML.Tokenizers reads it), so the line count is the vocabulary size.
        var lines = System.Text.Encoding.UTF8.GetString(file).Split('\n');
        return lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
    }

    /// <summary>True for a file with nothing but white space (or a byte-order mark) in it.</summary>
    private static bool IsBlank(byte[] file) => string.IsNullOrWhiteSpace(System.Text.Encoding.UTF8.GetString(file).TrimStart('\uFEFF'));

    private static byte[] Required(byte[]? file, string what)
        => file ?? throw new InvalidDataException($"The tokenizer's {what} file is missing from its definition.");

    /// <summary>Token ids of the text alone, without special tokens, truncation or padding.</summary>
    public IReadOnlyList<int> EncodeContent(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
            return [];
        return _library switch
        {
            BertTokenizer bert => bert.EncodeToIds(BertText(text), addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true),
            { } library => library.EncodeToIds(text, considerPreTokenization: true, considerNormalization: true),
            null => _words!.Encode(text),
        };
    }

    /// <summary>
    /// The first (or last, per <paramref name="truncation"/>) <paramref name="maxTokens"/> ids of <see cref="EncodeContent(ReadOnlySpan{char})"/>,
    /// with work bounded by <paramref name="maxTokens"/> rather than by the text (see <see cref="TruncatingEncoder"/>).
    /// </summary>
    public IReadOnlyList<int> EncodeContent(ReadOnlySpan<char> text, int maxTokens, TruncationSide truncation)
    {
        if (text.IsEmpty || maxTokens <= 0)
            return [];
        if (_library is null)
            return _words!.Encode(text, maxTokens, truncation);
        // The library's own steps for a whole text: normalize, pre-tokenize, then encode each pre-token on its own.
        var source = _library is BertTokenizer ? BertText(text) : text.ToString();
        var normalized = _library.Normalizer?.Normalize(source) ?? source;
        var pieces = _library.PreTokenizer?.PreTokenize(normalized) ?? [(0, normalized.Length)];
        return TruncatingEncoder.Encode(normalized, pieces, maxTokens, truncation, EncodePiece, SpanBounds);
    }

    private IReadOnlyList<int> EncodePiece(ReadOnlySpan<char> piece) => _library switch
    {
        BertTokenizer bert => bert.EncodeToIds(piece, addSpecialTokens: false, considerPreTokenization: false, considerNormalization: false),
        _ => _library!.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false),
    };

    /// <summary>Proof of over-long pre-tokens for the BPE tokenizers (built on first use); null where every pre-token is cheap to encode.</summary>
    private Func<TokenSpanBounds>? SpanBounds { get; init; }

    private static TokenSpanBounds? _gpt2Bounds;
    private static TokenSpanBounds? _cl100kBounds;

    /// <summary>The Tiktoken vocabularies are fixed data, so their bounds are computed once per process.</summary>
    private static TokenSpanBounds TiktokenBounds(TokenizerKind kind, TiktokenTokenizer tokenizer, int largestId)
        => kind == TokenizerKind.Gpt2
            ? System.Threading.LazyInitializer.EnsureInitialized(ref _gpt2Bounds, () => TokenSpanBounds.ForTiktoken(tokenizer, largestId))
            : System.Threading.LazyInitializer.EnsureInitialized(ref _cl100kBounds, () => TokenSpanBounds.ForTiktoken(tokenizer, largestId));

    /// <summary>
    /// A WordPiece tokenizer's input: well-formed (see <see cref="WellFormed"/>), and with Hugging Face's splitting, tab, line feed
    /// and carriage return read as spaces (Hugging Face's BERT treats them as white space; the library's normalizer deletes
    /// them as control characters, which glues the last word of a line to the first of the next).
    /// </summary>
    private string BertText(ReadOnlySpan<char> text)
    {
        var wellFormed = WellFormed(text);
        return Definition.HuggingFaceSplitting && wellFormed.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0
            ? wellFormed.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ')
            : wellFormed;
    }

    /// <summary>
    /// The text with every lone surrogate (invalid UTF-16) replaced by U+FFFD, as a UTF-8 decoder replaces invalid bytes.
    /// BERT's normalizer rejects invalid UTF-16 (.NET's Unicode normalization throws) and drops U+FFFD, as Hugging Face's
    /// BERT tokenizer does; so a lone surrogate tokenizes like a U+FFFD, instead of failing the whole transform.
    /// </summary>
    private static string WellFormed(ReadOnlySpan<char> text)
    {
        char[]? chars = null;
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else if (char.IsSurrogate(text[i]))
                (chars ??= text.ToArray())[i] = '\uFFFD';
        }
        return chars is null ? text.ToString() : new string(chars);
    }

    /// <summary>Token ids with the special tokens, untruncated and unpadded (empty text gives none).</summary>
    public int[] EncodeToIds(ReadOnlySpan<char> text)
    {
        var content = EncodeContent(text);
        return content.Count == 0 ? [] : [.. _prefix, .. content, .. _suffix];
    }

    /// <summary>
    /// Writes one row of <paramref name="ids"/> (its length is MaxLength): special prefix, the content truncated to
    /// the room left, special suffix, then padding. Returns the number of real tokens.
    /// </summary>
    public int Fill(ReadOnlySpan<char> text, Span<int> ids, TruncationSide truncation)
    {
        var room = ids.Length - _prefix.Length - _suffix.Length;
        var content = EncodeContent(text, room, truncation);
        var length = 0;
        if (content.Count > 0)
        {
            _prefix.CopyTo(ids);
            length = _prefix.Length;
            for (var i = 0; i < content.Count; i++)
                ids[length++] = content[i];
            _suffix.CopyTo(ids[length..]);
            length += _suffix.Length;
        }
        ids[length..].Fill(PaddingId);
        return length;
    }

    /// <summary>Text of the ids, padding skipped.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var real = ids.Where(id => id != PaddingId);
        return _library is { } library ? library.Decode(real) ?? "" : _words!.Decode(real);
    }
}

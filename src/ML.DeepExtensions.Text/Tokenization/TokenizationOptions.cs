namespace ML.DeepExtensions.Text.Tokenization;

/// <summary>
/// Settings shared by every tokenizing transform. The output is a known-size vector of Int32 token ids of
/// length <see cref="MaxLength"/>: the text's tokens (with the tokenizer's special tokens, e.g. BERT's [CLS] … [SEP]),
/// truncated per <see cref="Truncation"/> when too long, then padded with the tokenizer's padding id after the
/// tokens. Empty text gives all padding and length 0.
/// </summary>
public abstract class TokenizationOptions
{
    /// <summary>Default values, shared by the options and the short catalog overloads.</summary>
    public static class Defaults
    {
        /// <summary>Tokens per row (128).</summary>
        public const int MaxLength = 128;

        /// <summary>Keep the first tokens of an over-long text.</summary>
        public const TruncationSide Truncation = TruncationSide.KeepFirst;
    }

    /// <summary>Name of the token-id column (a vector of Int32 of size <see cref="MaxLength"/>). Required.</summary>
    public string OutputColumnName { get; set; } = "";

    /// <summary>Name of the text column (String); null means <see cref="OutputColumnName"/>.</summary>
    public string? InputColumnName { get; set; }

    /// <summary>Token ids per row, special tokens included; must be positive (default 128).</summary>
    public int MaxLength { get; set; } = Defaults.MaxLength;

    /// <summary>Which tokens survive when a text has more than <see cref="MaxLength"/> tokens (default <see cref="TruncationSide.KeepFirst"/>).</summary>
    public TruncationSide Truncation { get; set; } = Defaults.Truncation;

    /// <summary>Also add <c>&lt;output&gt;Length</c> (Int32): the number of real tokens, special tokens included, before padding (default false).</summary>
    public bool AddLengthColumn { get; set; }

    /// <summary>Also add <c>&lt;output&gt;Mask</c> (vector of Single of size <see cref="MaxLength"/>): 1 for a real token, 0 for padding (default false).</summary>
    public bool AddMaskColumn { get; set; }
}

/// <summary>
/// Options of <c>TokenizeToIds</c>: a Tiktoken vocabulary from the Microsoft.ML.Tokenizers.Data packages. A literal
/// <c>&lt;|endoftext|&gt;</c> in the text is encoded as the end-of-text token (so documents joined by it stay apart).
/// </summary>
public sealed class TiktokenTokenizationOptions : TokenizationOptions
{
    /// <summary>Which vocabulary (default <see cref="TiktokenVocabulary.Gpt2"/>).</summary>
    public TiktokenVocabulary Vocabulary { get; set; } = TiktokenVocabulary.Gpt2;

    /// <summary>Append the end-of-text token (<c>&lt;|endoftext|&gt;</c>) to every non-empty text (default false). It survives truncation.</summary>
    public bool AppendEndOfText { get; set; }
}

/// <summary>
/// Options of <c>TokenizeToIdsWithBpe</c>: byte-pair encoding from a user-supplied vocabulary and merges file. All text
/// is encoded as text: a literal <c>&lt;|endoftext|&gt;</c> is not turned into the special token.
/// </summary>
public sealed class BpeTokenizationOptions : TokenizationOptions
{
    /// <summary>Vocabulary file: a JSON object token → id (<c>vocab.json</c>, GPT-2's <c>encoder.json</c>). Required; copied into the model.</summary>
    public string VocabularyPath { get; set; } = "";

    /// <summary>Merges file: one merge "a b" per line by priority, optional <c>#version</c> first line (<c>merges.txt</c>, GPT-2's <c>vocab.bpe</c>). Required; copied into the model.</summary>
    public string MergesPath { get; set; } = "";

    /// <summary>
    /// True (default) for byte-level BPE as GPT-2, RoBERTa and CodeGen use it (any text is representable, no unknown token).
    /// False for classic BPE on words and punctuation runs (<c>\w+|[^\w\s]+</c>, no end-of-word suffix, no continuing-subword
    /// prefix), where characters missing from the vocabulary become <see cref="UnknownToken"/>.
    /// </summary>
    public bool ByteLevel { get; set; } = true;

    /// <summary>Unknown token of classic BPE (ignored for byte-level); null means characters outside the vocabulary are dropped (default null).</summary>
    public string? UnknownToken { get; set; }
}

/// <summary>
/// Options of <c>TokenizeToIdsWithWordPiece</c>: BERT WordPiece from a user-supplied <c>vocab.txt</c>. A lone surrogate
/// (invalid UTF-16) in the text is read as U+FFFD, which BERT's normalizer drops, as Hugging Face's BERT tokenizer does.
/// </summary>
public sealed class WordPieceTokenizationOptions : TokenizationOptions
{
    /// <summary>BERT <c>vocab.txt</c> (one token per line, id = line number from 0); must contain [UNK], [CLS], [SEP], [PAD], [MASK]. Required; copied into the model.</summary>
    public string VocabularyPath { get; set; } = "";

    /// <summary>Lower-case text before tokenization, as uncased BERT models need (default true).</summary>
    public bool LowerCase { get; set; } = true;

    /// <summary>
    /// Remove accents (Unicode non-spacing marks after NFD decomposition: "café" → "cafe"), as uncased BERT models need; null
    /// (default) follows <see cref="LowerCase"/>, which is what Hugging Face's <c>BertTokenizer</c> does when <c>strip_accents</c> is unset.
    /// </summary>
    public bool? StripAccents { get; set; }

    /// <summary>Wrap every non-empty text as [CLS] tokens [SEP] (default true). Both survive truncation.</summary>
    public bool AddSpecialTokens { get; set; } = true;
}

/// <summary>Options of <c>TokenizeToIdsWithWordVocabulary</c>: whole words, with a vocabulary learned by <c>Fit</c>.</summary>
public sealed class WordVocabularyOptions : TokenizationOptions
{
    /// <summary>Default values of the vocabulary settings.</summary>
    public static new class Defaults
    {
        /// <summary>Largest vocabulary, padding and unknown token included (10,000).</summary>
        public const int MaxVocabularySize = 10_000;

        /// <summary>Fewest occurrences in the training data for a word to enter the vocabulary (1).</summary>
        public const int MinFrequency = 1;

        /// <summary>Token of words outside the vocabulary (<c>&lt;unk&gt;</c>).</summary>
        public const string UnknownToken = "<unk>";

        /// <summary>Token of id 0, the padding (<c>&lt;pad&gt;</c>).</summary>
        public const string PaddingToken = "<pad>";
    }

    /// <summary>
    /// Largest vocabulary, padding (id 0) and unknown token (id 1) included; must be ≥ 3 (default 10,000). The most
    /// frequent words get the smallest ids; ties are broken by ordinal order of the word.
    /// </summary>
    public int MaxVocabularySize { get; set; } = Defaults.MaxVocabularySize;

    /// <summary>Fewest occurrences in the training data for a word to enter the vocabulary; ≥ 1 (default 1).</summary>
    public int MinFrequency { get; set; } = Defaults.MinFrequency;

    /// <summary>Token that words outside the vocabulary map to; id 1 (default <c>&lt;unk&gt;</c>).</summary>
    public string UnknownToken { get; set; } = Defaults.UnknownToken;

    /// <summary>Lower-case text before splitting it into words (default true).</summary>
    public bool LowerCase { get; set; } = true;
}

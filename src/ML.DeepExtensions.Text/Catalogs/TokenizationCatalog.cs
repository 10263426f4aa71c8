using System.IO;
using Microsoft.ML;
using ML.DeepExtensions;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Text.Interop;
using ML.DeepExtensions.Text.Persistence;
using ML.DeepExtensions.Text.Tokenization;

namespace Microsoft.ML;

/// <summary>
/// Tokenization transforms on <c>mlContext.Transforms.Text</c>, built on Microsoft.ML.Tokenizers. Every one turns
/// a String column into a known-size vector of Int32 token ids (see <see cref="TokenizingTransformer"/> for the
/// truncation and padding policy) and, when asked, <c>&lt;output&gt;Length</c> and <c>&lt;output&gt;Mask</c> columns.
/// </summary>
public static class TokenizationCatalog
{
    /// <summary>Tokenizes with OpenAI's GPT-2 or cl100k_base vocabulary (Tiktoken, from the Microsoft.ML.Tokenizers.Data packages).</summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="outputColumnName">Token-id column: a vector of Int32 of size <paramref name="maxLength"/>.</param>
    /// <param name="inputColumnName">Text column (String); null means <paramref name="outputColumnName"/>.</param>
    /// <param name="vocabulary">Which vocabulary (default GPT-2).</param>
    /// <param name="maxLength">Token ids per row (default 128).</param>
    public static TokenizingEstimator TokenizeToIds(this TransformsCatalog.TextTransforms catalog, string outputColumnName,
        string? inputColumnName = null, TiktokenVocabulary vocabulary = TiktokenVocabulary.Gpt2, int maxLength = TokenizationOptions.Defaults.MaxLength)
        => catalog.TokenizeToIds(new TiktokenTokenizationOptions
        {
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            Vocabulary = vocabulary,
            MaxLength = maxLength,
        });

    /// <summary>Tokenizes with a Tiktoken vocabulary, with every option.</summary>
    public static TokenizingEstimator TokenizeToIds(this TransformsCatalog.TextTransforms catalog, TiktokenTokenizationOptions options)
    {
        var env = TextInterop.Environment(Guard.NotNull(catalog));
        Guard.NotNull(options);
        if (!System.Enum.IsDefined(options.Vocabulary))
            throw new System.ArgumentOutOfRangeException(nameof(options.Vocabulary), options.Vocabulary, $"Vocabulary must be Gpt2 or Cl100kBase. Received: Vocabulary={options.Vocabulary}");
        var kind = options.Vocabulary == TiktokenVocabulary.Gpt2 ? TokenizerKind.Gpt2 : TokenizerKind.Cl100kBase;
        var tokenizer = TextTokenizer.Create(new TokenizerDefinition(kind, AppendEndOfText: options.AppendEndOfText));
        return new TokenizingEstimator(env, tokenizer, TokenizationSettings.From(options, tokenizer.SpecialTokenCount));
    }

    /// <summary>
    /// Tokenizes with byte-level BPE from a vocabulary file (JSON token → id, e.g. <c>vocab.json</c> or GPT-2's
    /// <c>encoder.json</c>) and a merges file (<c>merges.txt</c> or GPT-2's <c>vocab.bpe</c>). Both files are copied into the model.
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="outputColumnName">Token-id column: a vector of Int32 of size <paramref name="maxLength"/>.</param>
    /// <param name="vocabularyPath">The vocabulary file.</param>
    /// <param name="mergesPath">The merges file.</param>
    /// <param name="inputColumnName">Text column (String); null means <paramref name="outputColumnName"/>.</param>
    /// <param name="maxLength">Token ids per row (default 128).</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="System.ArgumentException">A path is empty or names a directory.</exception>
    /// <exception cref="InvalidDataException">A file is empty or is not a vocabulary (merges) file of the expected format.</exception>
    public static TokenizingEstimator TokenizeToIdsWithBpe(this TransformsCatalog.TextTransforms catalog, string outputColumnName,
        string vocabularyPath, string mergesPath, string? inputColumnName = null, int maxLength = TokenizationOptions.Defaults.MaxLength)
        => catalog.TokenizeToIdsWithBpe(new BpeTokenizationOptions
        {
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            VocabularyPath = vocabularyPath,
            MergesPath = mergesPath,
            MaxLength = maxLength,
        });

    /// <summary>Tokenizes with BPE from user-supplied files, with every option.</summary>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="System.ArgumentException">A path is empty or names a directory.</exception>
    /// <exception cref="InvalidDataException">A file is empty or is not a vocabulary (merges) file of the expected format.</exception>
    public static TokenizingEstimator TokenizeToIdsWithBpe(this TransformsCatalog.TextTransforms catalog, BpeTokenizationOptions options)
    {
        var env = TextInterop.Environment(Guard.NotNull(catalog));
        Guard.NotNull(options);
        var definition = new TokenizerDefinition(TokenizerKind.BytePairEncoding, ByteLevel: options.ByteLevel, UnknownToken: options.UnknownToken)
        {
            VocabularyFile = ReadFile(options.VocabularyPath, nameof(options.VocabularyPath), "BPE vocabulary"),
            MergesFile = ReadFile(options.MergesPath, nameof(options.MergesPath), "BPE merges"),
        };
        var tokenizer = Build(definition, Path.GetFullPath(options.VocabularyPath));
        return new TokenizingEstimator(env, tokenizer, TokenizationSettings.From(options, tokenizer.SpecialTokenCount));
    }

    /// <summary>
    /// Tokenizes with BERT's WordPiece from a <c>vocab.txt</c> (copied into the model): lower-cased, accents removed, wrapped as
    /// [CLS] tokens [SEP] (uncased BERT's tokenization).
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="outputColumnName">Token-id column: a vector of Int32 of size <paramref name="maxLength"/>.</param>
    /// <param name="vocabularyPath">BERT <c>vocab.txt</c>: one token per line; must hold [UNK], [CLS], [SEP], [PAD], [MASK].</param>
    /// <param name="inputColumnName">Text column (String); null means <paramref name="outputColumnName"/>.</param>
    /// <param name="maxLength">Token ids per row, [CLS] and [SEP] included (default 128).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="System.ArgumentException">The path is empty or names a directory.</exception>
    /// <exception cref="InvalidDataException">The file is empty or is not a BERT vocab.txt.</exception>
    public static TokenizingEstimator TokenizeToIdsWithWordPiece(this TransformsCatalog.TextTransforms catalog, string outputColumnName,
        string vocabularyPath, string? inputColumnName = null, int maxLength = TokenizationOptions.Defaults.MaxLength)
        => catalog.TokenizeToIdsWithWordPiece(new WordPieceTokenizationOptions
        {
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            VocabularyPath = vocabularyPath,
            MaxLength = maxLength,
        });

    /// <summary>Tokenizes with BERT's WordPiece, with every option.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="System.ArgumentException">The path is empty or names a directory.</exception>
    /// <exception cref="InvalidDataException">The file is empty or is not a BERT vocab.txt.</exception>
    public static TokenizingEstimator TokenizeToIdsWithWordPiece(this TransformsCatalog.TextTransforms catalog, WordPieceTokenizationOptions options)
    {
        var env = TextInterop.Environment(Guard.NotNull(catalog));
        Guard.NotNull(options);
        var vocabulary = ReadFile(options.VocabularyPath, nameof(options.VocabularyPath), "WordPiece vocabulary");
        return WordPiece(env, vocabulary, Path.GetFullPath(options.VocabularyPath), options);
    }

    /// <summary>A WordPiece tokenizer from the bytes of a <c>vocab.txt</c>; <paramref name="source"/> names them in errors.
    /// Used by the public overload and by pretrained encoders whose vocabulary is an assembly resource.</summary>
    internal static TokenizingEstimator WordPiece(Microsoft.ML.Runtime.IHostEnvironment env, byte[] vocabulary, string source, WordPieceTokenizationOptions options)
    {
        var definition = new TokenizerDefinition(TokenizerKind.WordPiece, LowerCase: options.LowerCase, AddSpecialTokens: options.AddSpecialTokens,
            StripAccents: options.StripAccents ?? options.LowerCase, HuggingFaceSplitting: true)
        {
            VocabularyFile = vocabulary,
        };
        var tokenizer = Build(definition, source);
        return new TokenizingEstimator(env, tokenizer, TokenizationSettings.From(options, tokenizer.SpecialTokenCount));
    }

    /// <summary>
    /// Learns a word-level vocabulary from the training data (<c>Fit</c>) and tokenizes with it: id 0 is padding,
    /// id 1 the unknown token, then the most frequent words. The vocabulary is saved in the model zip.
    /// </summary>
    /// <param name="catalog">The text transforms catalog.</param>
    /// <param name="outputColumnName">Token-id column: a vector of Int32 of size <paramref name="maxLength"/>.</param>
    /// <param name="inputColumnName">Text column (String); null means <paramref name="outputColumnName"/>.</param>
    /// <param name="maxVocabularySize">Largest vocabulary, padding and unknown token included (default 10,000).</param>
    /// <param name="minFrequency">Fewest occurrences for a word to be kept (default 1).</param>
    /// <param name="maxLength">Token ids per row (default 128).</param>
    public static WordVocabularyEstimator TokenizeToIdsWithWordVocabulary(this TransformsCatalog.TextTransforms catalog, string outputColumnName,
        string? inputColumnName = null, int maxVocabularySize = WordVocabularyOptions.Defaults.MaxVocabularySize,
        int minFrequency = WordVocabularyOptions.Defaults.MinFrequency, int maxLength = TokenizationOptions.Defaults.MaxLength)
        => catalog.TokenizeToIdsWithWordVocabulary(new WordVocabularyOptions
        {
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            MaxVocabularySize = maxVocabularySize,
            MinFrequency = minFrequency,
            MaxLength = maxLength,
        });

    /// <summary>Learns a word-level vocabulary and tokenizes with it, with every option.</summary>
    public static WordVocabularyEstimator TokenizeToIdsWithWordVocabulary(this TransformsCatalog.TextTransforms catalog, WordVocabularyOptions options)
        => new(TextInterop.Environment(Guard.NotNull(catalog)), Guard.NotNull(options));

    private static byte[] ReadFile(string? path, string parameter, string what)
    {
        Guard.NotEmpty(path, parameter);
        var full = Path.GetFullPath(path!);
        if (Directory.Exists(full))
            throw new System.ArgumentException($"{parameter} must name the {what} file, but '{full}' is a directory. Received: {parameter}='{path}'", parameter);
        if (!File.Exists(full))
            throw new FileNotFoundException($"The {what} file '{full}' does not exist ({parameter}='{path}').", full);
        return File.ReadAllBytes(full);
    }

    private static TextTokenizer Build(TokenizerDefinition definition, string path)
    {
        try
        {
            return TextTokenizer.Create(definition);
        }
        catch (System.Exception ex) when (ex is System.ArgumentException or System.FormatException or System.Text.Json.JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"Microsoft.ML.Tokenizers could not read the {definition.Kind} vocabulary from '{path}': {ex.Message}", ex);
        }
    }
}

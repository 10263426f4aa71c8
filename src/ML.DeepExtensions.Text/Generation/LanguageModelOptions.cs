using System;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Text.Generation;

/// <summary>
/// Options of <c>mlContext.Transforms.Text.TrainLanguageModel</c>: a GPT-style decoder-only Transformer
/// (token + learned position embeddings, <see cref="Layers"/> pre-LN causal blocks, final LayerNorm, a Dense
/// layer to next-token logits) trained with next-token cross-entropy on the token-id column of a tokenizer
/// transform, plus every setting of the training engine (epochs, batch, optimizer, learning rate and schedule,
/// validation, early stopping, checkpoints, progress, cancellation). Data is held in memory (token ids only).
/// </summary>
public sealed class LanguageModelOptions : TrainerOptions
{
    /// <summary>Default values, shared by the options and the short catalog overload.</summary>
    public static new class Defaults
    {
        /// <summary>Token-id column (<c>Tokens</c>).</summary>
        public const string TokenColumnName = "Tokens";
        /// <summary>Model width (128).</summary>
        public const int Dimensions = 128;
        /// <summary>Transformer blocks (2).</summary>
        public const int Layers = 2;
        /// <summary>Attention heads (4).</summary>
        public const int Heads = 4;
        /// <summary>Dropout (0.1).</summary>
        public const double Dropout = 0.1;
    }

    /// <summary>
    /// Token-id column: a known-size vector of Int32 made by a tokenizer transform earlier in the same pipeline
    /// (<c>mlContext.Transforms.Text.TokenizeToIds*</c>), default <c>Tokens</c>. Its length is the model's context length.
    /// </summary>
    public string TokenColumnName { get; set; } = Defaults.TokenColumnName;

    /// <summary>
    /// The fitted tokenizer that made <see cref="TokenColumnName"/>. Normally null: <c>Fit</c> finds the tokenizer
    /// transform that produced the column in the pipeline. Set it when the column was made elsewhere.
    /// </summary>
    public TokenizingTransformer? Tokenizer { get; set; }

    /// <summary>
    /// Whether training batches group texts of similar length (default true): within each run of 100 batches of the
    /// shuffled texts, they are sorted by length, cut into batches and the batches shuffled; each batch is as long as its
    /// longest text, so this removes most padding. Every text is still seen once per epoch in a seeded order.
    /// </summary>
    public bool LengthBucketing { get; set; } = true;

    /// <summary>Model width, &gt; 0, divisible by <see cref="Heads"/> (default 128).</summary>
    public int Dimensions { get; set; } = Defaults.Dimensions;

    /// <summary>Number of Transformer blocks, &gt; 0 (default 2).</summary>
    public int Layers { get; set; } = Defaults.Layers;

    /// <summary>Attention heads per block, &gt; 0 (default 4).</summary>
    public int Heads { get; set; } = Defaults.Heads;

    /// <summary>Hidden width of each block's MLP, ≥ 0; 0 means 4 × <see cref="Dimensions"/> (default 0).</summary>
    public int FeedForward { get; set; }

    /// <summary>Dropout after the embeddings, on attention weights and on residual branches, in [0, 1) (default 0.1).</summary>
    public double Dropout { get; set; } = Defaults.Dropout;

    /// <summary>How the fitted model generates text when it transforms data (prompt → continuation).</summary>
    public GenerationOptions Generation { get; set; } = new();

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Guard.NotEmpty(TokenColumnName);
        Guard.Positive(Dimensions);
        Guard.Positive(Layers);
        Guard.Positive(Heads);
        Guard.NonNegative(FeedForward);
        Guard.InRange(Dropout, 0, 1);
        if (Dimensions % Heads != 0)
            throw new ArgumentException($"Dimensions must be divisible by Heads. Received: Dimensions={Dimensions}, Heads={Heads}", nameof(Heads));
        Guard.NotNull(Generation).Validate();
        if (DataLoading == DataLoading.Streaming)
            throw new ArgumentException("The language-model trainer holds its token ids in memory; DataLoading=Streaming is not supported. Received: DataLoading=Streaming", nameof(DataLoading));
    }
}

/// <summary>
/// How text is generated: sampling settings, length and columns. A continuation is a function of the prompt and
/// <see cref="Seed"/> only (each row draws from its own generator seeded with <see cref="Seed"/>), so it is the
/// same alone, in a batch, in <c>Transform</c> or in a <c>PredictionEngine</c>.
/// </summary>
/// <remarks>
/// Context policy: the model sees a start position and at most <c>MaxLength − 1</c> tokens. A prompt with more
/// tokens keeps its last <c>MaxLength − 1</c> (its beginning is dropped), and while generating the window slides
/// the same way. A trailing end-of-text or [SEP] token that the tokenizer appends is removed from the prompt. Null
/// and empty prompts are allowed: the model then starts a text from nothing. Generation stops at the end-of-text
/// prediction (the padding id, or the tokenizer's &lt;|endoftext|&gt;) or after <see cref="MaxNewTokens"/> tokens.
/// </remarks>
public sealed class GenerationOptions
{
    /// <summary>Default values.</summary>
    public static class Defaults
    {
        /// <summary>Continuation column (<c>Continuation</c>).</summary>
        public const string OutputColumnName = "Continuation";
        /// <summary>New tokens at most (30).</summary>
        public const int MaxNewTokens = 30;
        /// <summary>Sampling temperature (1).</summary>
        public const double Temperature = 1.0;
    }

    /// <summary>Prompt column (String); null (default) means the text column the tokenizer reads.</summary>
    public string? PromptColumnName { get; set; }

    /// <summary>Continuation column (String) added by <c>Transform</c> (default <c>Continuation</c>). It holds only the new text.</summary>
    public string OutputColumnName { get; set; } = Defaults.OutputColumnName;

    /// <summary>
    /// Most tokens generated per prompt, ≥ 0 (default 30). The work is one forward pass per token; beyond the context
    /// (<c>MaxLength − 1</c> tokens) the window slides, so a large value generates for as long as it says unless the text
    /// ends. To bound the time of a large value, call
    /// <see cref="LanguageModelTransformer.Generate(System.Collections.Generic.IReadOnlyList{string}, GenerationOptions, System.Threading.CancellationToken)"/>
    /// with a cancellation token (e.g. <c>new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token</c>).
    /// </summary>
    public int MaxNewTokens { get; set; } = Defaults.MaxNewTokens;

    /// <summary>
    /// New tokens generated before the end of the text may be chosen, ≥ 0 and ≤ <see cref="MaxNewTokens"/> (default 0):
    /// until then the end-of-text prediction (the padding id, or &lt;|endoftext|&gt;) is excluded from the choice.
    /// </summary>
    public int MinNewTokens { get; set; }

    /// <summary>Softmax temperature, ≥ 0; 0 means greedy (always the most likely token) (default 1).</summary>
    public double Temperature { get; set; } = Defaults.Temperature;

    /// <summary>Sample only among the <see cref="TopK"/> most likely tokens, ≥ 0; 0 means all (default 0).</summary>
    public int TopK { get; set; }

    /// <summary>Seed of each row's sampling generator (default 0).</summary>
    public int Seed { get; set; }

    /// <summary>Whether the unknown token (e.g. <c>&lt;unk&gt;</c> of a word vocabulary) may be generated (default false).</summary>
    public bool AllowUnknownToken { get; set; }

    /// <summary>
    /// Whether generation keeps every block's keys and values between new tokens (default true), so a new token costs one
    /// position's work instead of a pass over the whole context. The text is the same either way (the cached step computes
    /// what the full pass computes at that position, up to float rounding); false recomputes the context for every token.
    /// Once a context fills the model's window and slides, that batch falls back to full passes.
    /// </summary>
    public bool UseKeyValueCache { get; set; } = true;

    /// <summary>A copy.</summary>
    public GenerationOptions Clone() => (GenerationOptions)MemberwiseClone();

    /// <summary>Throws naming the first invalid setting.</summary>
    public void Validate()
    {
        if (PromptColumnName is not null)
            Guard.NotEmpty(PromptColumnName);
        Guard.NotEmpty(OutputColumnName);
        Guard.NonNegative(MaxNewTokens);
        if (MinNewTokens < 0 || MinNewTokens > MaxNewTokens)
            throw new ArgumentOutOfRangeException(nameof(MinNewTokens), MinNewTokens, $"MinNewTokens must be in [0, MaxNewTokens = {MaxNewTokens}]. Received: MinNewTokens={MinNewTokens}");
        Guard.NonNegative(Temperature);
        Guard.NonNegative(TopK);
    }
}

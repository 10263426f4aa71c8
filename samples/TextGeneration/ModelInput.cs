namespace TextGeneration;

/// <summary>One text: a quotation when training, a prompt when generating.</summary>
public sealed class ModelInput
{
    /// <summary>The text (the column the tokenizer and the language model read).</summary>
    public string Text { get; set; } = "";
}

/// <summary>What the model returns for one prompt.</summary>
public sealed class ModelOutput
{
    /// <summary>The generated continuation (new text only, without the prompt).</summary>
    public string Continuation { get; set; } = "";
}

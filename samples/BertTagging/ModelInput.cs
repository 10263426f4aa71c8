namespace BertTagging;

/// <summary>One sentence and its tags: the columns the model reads (ML.NET's NamedEntityRecognition convention).</summary>
public sealed class ModelInput
{
    /// <summary>The text; its words are separated by white space.</summary>
    public string Sentence { get; set; } = "";

    /// <summary>One tag per word; ignored when predicting.</summary>
    public string[] Tags { get; set; } = [];
}

/// <summary>What the model returns for one sentence.</summary>
public sealed class ModelOutput
{
    /// <summary>One predicted tag per word of the sentence.</summary>
    public string[] PredictedTags { get; set; } = [];
}

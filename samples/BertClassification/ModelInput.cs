using System.Text.Json.Serialization;

namespace BertClassification;

/// <summary>One e-mail and whether it is spam: the columns the model reads.</summary>
public sealed class ModelInput
{
    /// <summary>Subject line, a blank line, then the readable body.</summary>
    [JsonPropertyName("text")]
    public string Text { get; set; } = "";

    /// <summary>True for spam; ignored when predicting.</summary>
    [JsonPropertyName("spam")]
    public bool Label { get; set; }
}

/// <summary>What the model returns for one e-mail.</summary>
public sealed class ModelOutput
{
    /// <summary>True when the model thinks the e-mail is spam (Probability ≥ 0.5).</summary>
    public bool PredictedLabel { get; set; }

    /// <summary>Probability that the e-mail is spam.</summary>
    public float Probability { get; set; }
}

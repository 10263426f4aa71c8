namespace ImageClassification;

/// <summary>One image file and its class: the columns the model reads.</summary>
public sealed class ModelInput
{
    /// <summary>Path of a PNG/JPEG file.</summary>
    public string ImagePath { get; set; } = "";

    /// <summary>Class name (the image's folder); ignored when predicting.</summary>
    public string Label { get; set; } = "";
}

/// <summary>What the model returns for one image.</summary>
public sealed class ModelOutput
{
    /// <summary>The most probable class name.</summary>
    public string PredictedLabel { get; set; } = "";

    /// <summary>Probability of every class, in the order of <c>ClassNames</c>.</summary>
    public float[] Score { get; set; } = [];
}

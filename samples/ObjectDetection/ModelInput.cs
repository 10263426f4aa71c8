namespace ObjectDetection;

/// <summary>One image file and its objects, in ML.NET's detection columns.</summary>
public sealed class ModelInput
{
    /// <summary>Path of a PNG/JPEG file.</summary>
    public string ImagePath { get; set; } = "";

    /// <summary>Class name per object; ignored when predicting.</summary>
    public string[] Labels { get; set; } = [];

    /// <summary>x0, y0, x1, y1 in pixels per object; ignored when predicting.</summary>
    public float[] Box { get; set; } = [];
}

/// <summary>What the model returns for one image: one entry per detected object, best first.</summary>
public sealed class ModelOutput
{
    /// <summary>Class name per detection.</summary>
    public string[] PredictedClasses { get; set; } = [];

    /// <summary>Score per detection.</summary>
    public float[] Score { get; set; } = [];

    /// <summary>x0, y0, x1, y1 per detection, in pixels of the image.</summary>
    public float[] PredictedBoundingBoxes { get; set; } = [];
}

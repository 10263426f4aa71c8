namespace SpeechRecognition;

/// <summary>One WAV file and, for training and evaluation, what is said in it.</summary>
public sealed class ModelInput
{
    /// <summary>Path of a WAV file (PCM or IEEE float, any rate, any channel count).</summary>
    public string AudioPath { get; set; } = "";

    /// <summary>The words spoken (lower case); empty when only transcribing.</summary>
    public string Transcript { get; set; } = "";
}

/// <summary>What the model adds.</summary>
public sealed class ModelOutput
{
    /// <summary>The recognised words.</summary>
    public string PredictedTranscript { get; set; } = "";
}

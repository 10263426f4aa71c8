namespace ML.DeepExtensions.Scoring;

/// <summary>What a fitted network predicts, which fixes its output columns.</summary>
public enum NetworkTask
{
    /// <summary>One value: <c>Score</c> (Single).</summary>
    Regression,
    /// <summary>Two classes: <c>Score</c> (Single, logit), <c>Probability</c> (Single), <c>PredictedLabel</c> (Boolean).</summary>
    BinaryClassification,
    /// <summary>K classes: <c>Score</c> (vector of K Single probabilities with slot names), <c>PredictedLabel</c> (key of K values).</summary>
    MulticlassClassification,
    /// <summary>The activations before the output layer: <c>Features</c> (vector of Single), for any ML.NET trainer.</summary>
    FeatureExtraction,
}

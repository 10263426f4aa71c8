using ML.DeepExtensions;
using ML.DeepExtensions.Scoring;
using Microsoft.ML.Data;
using ML.DeepExtensions.Audio;
using ML.DeepExtensions.Audio.Interop;

// In ML.NET's own namespace, as every catalog class of this family (docs/architecture.md): `using Microsoft.ML;` reaches it.
namespace Microsoft.ML;

/// <summary>
/// Audio transforms on <c>mlContext.Transforms</c> (<see cref="LoadAudio"/>) and the speech-recognition catalog
/// <c>mlContext.SpeechRecognition()</c>: ML.NET has no speech catalog, so the package adds one with the usual shape —
/// <c>Trainers</c> and <c>Evaluate</c>.
/// </summary>
public static class SpeechCatalogExtensions
{
    /// <summary>Reads WAV files named by a path column into mono Single samples at <paramref name="sampleRate"/> Hz.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The samples column to add (variable-size vector of Single).</param>
    /// <param name="inputColumnName">The path column (String), default <c>AudioPath</c>.</param>
    /// <param name="sampleRate">Output sample rate in Hz, &gt; 0 (default 16,000); files at other rates are resampled.</param>
    /// <param name="folder">Folder that relative paths are resolved against (default: none).</param>
    public static AudioLoadingEstimator LoadAudio(this TransformsCatalog catalog, string outputColumnName = SpeechRecognizerOptions.Defaults.AudioColumnName,
        string inputColumnName = "AudioPath", int sampleRate = AudioFeatureOptions.Defaults.SampleRate, string? folder = null)
        => new(SpeechInterop.Environment(Guard.NotNull(catalog)), outputColumnName, inputColumnName, folder, sampleRate);

    /// <summary>
    /// Fixed-size log-mel (or MFCC) features of an audio column: a vector of Single of <paramref name="frames"/> × features per
    /// frame (first frames kept, zero-padded), computed as the speech recogniser computes them.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The features column to add (known-size vector of Single).</param>
    /// <param name="inputColumnName">The audio column (vector of Single, mono samples), default <c>Audio</c>.</param>
    /// <param name="frames">Frames per utterance, &gt; 0 (default 100 = 1 s at a 10 ms hop).</param>
    /// <param name="features">Feature settings (default: 16 kHz, 40 log-mel bins, 25/10 ms, normalised).</param>
    public static AudioFeaturizingEstimator ComputeAudioFeatures(this TransformsCatalog catalog, string outputColumnName = AudioClassifierOptions.Defaults.FeatureColumnName,
        string inputColumnName = AudioClassifierOptions.Defaults.AudioColumnName, int frames = AudioClassifierOptions.Defaults.Frames, AudioFeatureOptions? features = null)
        => new(SpeechInterop.Environment(Guard.NotNull(catalog)), outputColumnName, inputColumnName, frames, features ?? new AudioFeatureOptions());

    /// <summary>
    /// Keyword spotting / audio classification: audio (vector of Single, mono samples) + a key-typed label → <c>Score</c> and
    /// <c>PredictedLabel</c>, with a small CNN over a fixed-size log-mel spectrogram. The estimator is
    /// <c>ComputeAudioFeatures</c> followed by the neural-network multiclass trainer; the fitted chain's last transformer is the
    /// network. Saves and loads in ML.NET zips; evaluate with <c>mlContext.MulticlassClassification.Evaluate</c>.
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Label column, a key type (default <c>Label</c>).</param>
    /// <param name="audioColumnName">Audio column, mono samples at 16 kHz (default <c>Audio</c>).</param>
    /// <param name="epochs">Passes over the data (default 30).</param>
    public static EstimatorChain<NeuralNetworkTransformer> AudioClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = AudioClassifierOptions.Defaults.LabelColumnName, string audioColumnName = AudioClassifierOptions.Defaults.AudioColumnName,
        int epochs = AudioClassifierOptions.Defaults.Epochs)
        => catalog.AudioClassifier(new AudioClassifierOptions { LabelColumnName = labelColumnName, AudioColumnName = audioColumnName, Epochs = epochs });

    /// <summary>Keyword spotting / audio classification with every option (see <see cref="AudioClassifierOptions"/>).</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="options">The options (validated here).</param>
    public static EstimatorChain<NeuralNetworkTransformer> AudioClassifier(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, AudioClassifierOptions options)
    {
        Guard.NotNull(catalog);
        Guard.NotNull(options).Validate();
        var env = global::ML.DeepExtensions.Interop.MLNetInternals.Environment(catalog);
        var featurizer = new AudioFeaturizingEstimator(env, options.FeatureColumnName, options.AudioColumnName, options.Frames, options.Features);
        return featurizer.Append(catalog.NeuralNetwork(options.ToNetworkOptions()));
    }

    /// <summary>The speech-recognition catalog of <paramref name="mlContext"/>.</summary>
    public static SpeechRecognitionCatalog SpeechRecognition(this MLContext mlContext) => new(SpeechInterop.Environment(Guard.NotNull(mlContext)));
}

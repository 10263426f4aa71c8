using ML.DeepExtensions;
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

    /// <summary>The speech-recognition catalog of <paramref name="mlContext"/>.</summary>
    public static SpeechRecognitionCatalog SpeechRecognition(this MLContext mlContext) => new(SpeechInterop.Environment(Guard.NotNull(mlContext)));
}

using ML.DeepExtensions.Audio;
using ML.DeepExtensions.Audio.Persistence;

// Every model loader of the audio package: ML.NET reads a loader signature from a zip, loads the assembly named there and
// scans its LoadableClass attributes.
[assembly: Microsoft.ML.LoadableClass(typeof(SpeechRecognitionTransformer), typeof(SpeechRecognizerFormat), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Speech Recognition Transformer", SpeechRecognizerFormat.LoaderSignature)]
[assembly: Microsoft.ML.LoadableClass(typeof(AudioLoadingTransformer), typeof(AudioLoadingFormat), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Audio Loading Transformer", AudioLoadingFormat.LoaderSignature)]
[assembly: Microsoft.ML.LoadableClass(typeof(AudioFeaturizingTransformer), typeof(AudioFeaturizingFormat), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Audio Featurizing Transformer", AudioFeaturizingFormat.LoaderSignature)]

using Microsoft.ML;
using ML.DeepExtensions.Audio;
using ML.DeepExtensions.Training;

namespace SpeechRecognition;

/// <summary>Training, Model Builder style: the pipeline and the training call, with nothing else mixed in.</summary>
public static partial class SpeechRecognizer
{
    /// <summary>
    /// WAV path → 16 kHz mono samples (LoadAudio) → CTC recogniser (log-mel features, DeepSpeech2-style encoder, SpecAugment on
    /// training batches). Early stopping watches the validation word error rate and restores the best epoch.
    /// </summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, IDataView validation, int epochs, TrainingCallback? callback = null)
    {
        var options = new SpeechRecognizerOptions
        {
            Epochs = epochs,
            BatchSize = 16,
            LearningRate = 3e-3,
            // One torch thread: on a busy 2-core machine two intra-op threads made epochs 20–60× slower (docs/speech.md).
            NumberOfThreads = 1,
            Encoder = new DeepSpeech2Parameters { Channels = 16, HiddenSize = 96, RecurrentLayers = 2 },
            Vocabulary = "abcdefghijklmnopqrstuvwxyz ",
            ValidationSet = validation,
            // WER stays at 1 while CTC is on its blank plateau (5–20 epochs, seed-dependent): a long patience.
            EarlyStopping = new EarlyStopping("ValidationWordErrorRate", patience: 15, restoreBestWeights: true),
            Callback = callback,
        };
        return mlContext.Transforms.LoadAudio("Audio", nameof(ModelInput.AudioPath))
            .Append(mlContext.SpeechRecognition().Trainers.SpeechRecognizer(options));
    }

    /// <summary>Fits the pipeline on <paramref name="trainingData"/> (its LoadAudio step is applied to <paramref name="validation"/> too).</summary>
    public static ITransformer Train(MLContext mlContext, IDataView trainingData, IDataView validation, int epochs, TrainingCallback? callback = null)
    {
        var loadedValidation = mlContext.Transforms.LoadAudio("Audio", nameof(ModelInput.AudioPath)).Fit(validation).Transform(validation);
        return BuildPipeline(mlContext, mlContext.Data.Cache(loadedValidation), epochs, callback).Fit(mlContext.Data.Cache(trainingData));
    }
}

using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.TestSupport.Contract;

namespace ML.DeepExtensions.Audio.Tests.Contract;

/// <summary>The estimator contract (tests/Shared/Contract) over the audio package's estimators: one line per estimator.</summary>
public sealed class AudioContractTests : EstimatorContractTests<AudioContractTests>, IEstimatorCases
{
    public static IReadOnlyList<EstimatorCase> All { get; } =
    [
        new("SpeechRecognition.SpeechRecognizer",
            ml => ml.SpeechRecognition().Trainers.SpeechRecognizer(new SpeechRecognizerOptions { Epochs = 1, BatchSize = 8, NumberOfThreads = 1, Encoder = new DeepSpeech2Parameters { Channels = 4, HiddenSize = 16, RecurrentLayers = 1 } }),
            Clips, ["Audio", "Transcript"],
            [new("Epochs", ml => ml.SpeechRecognition().Trainers.SpeechRecognizer(new SpeechRecognizerOptions { Epochs = 0 })),
             new("Encoder.Channels", ml => ml.SpeechRecognition().Trainers.SpeechRecognizer(new SpeechRecognizerOptions { Encoder = new DeepSpeech2Parameters { Channels = 0 } }))]),
        new("SpeechRecognition.SpeechRecognizer(QuartzNet)", ml => ml.SpeechRecognition().Trainers.SpeechRecognizer(EncoderTests.Tiny(SpeechEncoder.QuartzNet)),
            Clips, ["Audio", "Transcript"],
            [new("QuartzNet.Channels", ml => ml.SpeechRecognition().Trainers.SpeechRecognizer(new SpeechRecognizerOptions { Architecture = SpeechEncoder.QuartzNet, QuartzNet = new QuartzNetParameters { Channels = 0 } }))]),
        new("SpeechRecognition.SpeechRecognizer(Conformer)", ml => ml.SpeechRecognition().Trainers.SpeechRecognizer(EncoderTests.Tiny(SpeechEncoder.Conformer)),
            Clips, ["Audio", "Transcript"],
            [new("Conformer.Layers", ml => ml.SpeechRecognition().Trainers.SpeechRecognizer(new SpeechRecognizerOptions { Architecture = SpeechEncoder.Conformer, Conformer = new ConformerParameters { Layers = 0 } }))]),
        new("Transforms.LoadAudio", ml => ml.Transforms.LoadAudio("Audio", "AudioPath"), ClipPaths, ["AudioPath"],
            [new("sampleRate", ml => ml.Transforms.LoadAudio("Audio", "AudioPath", sampleRate: 0))]),
    ];

    /// <summary>16 espeak-ng clips (training voices) as paths + transcripts, loaded by LoadAudio in the preparation step.</summary>
    private static CaseData Clips(MLContext mlContext)
        => new(Corpus.Paths(mlContext, Corpus.Training(16, seed: 31)), mlContext.Transforms.LoadAudio("Audio", "AudioPath"));

    /// <summary>The same clips' paths and transcripts.</summary>
    private static CaseData ClipPaths(MLContext mlContext) => new(Corpus.Paths(mlContext, Corpus.Training(16, seed: 31)));
}

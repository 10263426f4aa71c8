// Speech recognition, Model Builder style: generate a spoken-digits-and-commands corpus with espeak-ng (56 training voices,
// 8 unseen test voices, eng/data/SpokenCorpus.cs), train a CTC recogniser on WAV files (SpeechRecognizer.training.cs),
// evaluate WER/CER on the unseen voices, draw one clip's log-mel spectrogram with its decoded text, save the model, then
// load it back and transcribe files as an app would (SpeechRecognizer.consumption.cs).
// Needs espeak-ng (bash eng/install-reference-tools.sh). Run: dotnet run --project samples/SpeechRecognition [-- <output-directory> [epochs]]
using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Audio;
using ML.DeepExtensions.Audio.Data;
using ML.DeepExtensions.Plots;
using ML.DeepExtensions.Scoring;
using Samples.Shared;
using SpeechRecognition;

var outputDirectory = Directory.CreateDirectory(args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "output")).FullName;
var epochs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 40;
var corpus = Path.Combine(outputDirectory, "corpus");
var mlContext = new MLContext(seed: 1);

// 1. Data: WAV files written by espeak-ng; the validation and test voices use variants no training voice uses.
var clock = Stopwatch.StartNew();
var trainClips = SpokenCorpus.Generate(corpus, SpokenCorpus.TrainingVoices, 448, seed: 1);
var validationClips = SpokenCorpus.Generate(corpus, SpokenCorpus.TestVoices, 40, seed: 3);
var testClips = SpokenCorpus.Generate(corpus, SpokenCorpus.TestVoices, 80, seed: 2);
Console.WriteLine($"Generated {trainClips.Count + validationClips.Count + testClips.Count} clips in {clock.Elapsed.TotalSeconds:F1} s into {corpus}.");
IDataView Rows(System.Collections.Generic.IEnumerable<SpokenClip> clips)
    => mlContext.Data.LoadFromEnumerable(clips.Select(c => new ModelInput { AudioPath = c.Path, Transcript = c.Transcript }).ToArray());

// 2. Train (a progress bar per epoch), then evaluate on the unseen voices.
Console.WriteLine($"Training a DeepSpeech2-style CTC recogniser on {trainClips.Count} clips for up to {epochs} epochs …");
clock.Restart();
var model = ConsoleTrainingProgress.Run(callback => SpeechRecognizer.Train(mlContext, Rows(trainClips), Rows(validationClips), epochs, callback));
Console.WriteLine($"Trained in {clock.Elapsed.TotalSeconds:F1} s.");
var metrics = mlContext.SpeechRecognition().Evaluate(model.Transform(Rows(testClips)));
Console.WriteLine($"Unseen voices: {metrics}");

// 3. Picture: one test clip's log-mel spectrogram with the decoded text under it.
var recognizer = model.GetNetwork<SpeechRecognitionTransformer>();
var clip = testClips[0];
var samples = WavAudio.Read(clip.Path, recognizer.Features.SampleRate);
var picture = Path.Combine(outputDirectory, "spectrogram.png");
var display = recognizer.Features;
display.NormalizePerUtterance = false;
TrainingPlots.SaveSpectrogram(AudioFeatures.Compute(samples, display), picture, $"Log-mel spectrogram (dB) of \"{clip.Transcript}\", voice {clip.Voice}",
    $"decoded: \"{recognizer.Transcribe(samples)}\"", display.HopLength / (double)display.SampleRate);
Console.WriteLine($"Wrote {picture}");

// 4. Save, then consume the saved model as an application would.
SpeechRecognizer.ModelPath = Path.Combine(outputDirectory, "speech-recognizer.zip");
mlContext.Model.Save(model, Rows(trainClips).Schema, SpeechRecognizer.ModelPath);
Console.WriteLine($"Saved {SpeechRecognizer.ModelPath} ({new FileInfo(SpeechRecognizer.ModelPath).Length / 1024} KiB).");
foreach (var test in testClips.Where((_, i) => i % 10 == 0))
{
    var prediction = SpeechRecognizer.Predict(new ModelInput { AudioPath = test.Path });
    Console.WriteLine($"{Path.GetFileName(test.Path)} ({test.Voice}): said \"{test.Transcript}\" → \"{prediction.PredictedTranscript}\"");
}
return 0;

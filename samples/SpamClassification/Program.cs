// Spam classification, Model Builder style: train a neural text classifier on e-mails, evaluate it on held-out
// e-mails, save it (tokenizer + network in one zip), draw the learning curves, then load it back and predict as an
// app would.
// Data: the SpamAssassin subset committed in data/spam (1,050 e-mails), or with --full the whole corpus (6,046)
// fetched by eng/data/fetch-spam-assassin.sh into ~/.cache/ml-deepextensions/spam-assassin (see data/spam/README.md).
// Run: dotnet run --project samples/SpamClassification [-- [--full] [--lstm] [<output-directory>]]
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using ML.DeepExtensions.Plots;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Training;
using SpamClassification;

var full = args.Contains("--full");
var lstm = args.Contains("--lstm");
var positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
var outputDirectory = Directory.CreateDirectory(positional.Length > 0 ? positional[0] : Path.Combine(AppContext.BaseDirectory, "output")).FullName;
var dataFile = full ? FullCorpus() : FindUp(Path.Combine("data", "spam", "spam-assassin-subset.jsonl"));
var mlContext = new MLContext(seed: 1);

// 1. Data: one JSON line per e-mail; a seeded 80/20 split keeps a test part the model never sees.
var emails = File.ReadLines(dataFile).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<ModelInput>(l)!).ToArray();
var split = mlContext.Data.TrainTestSplit(mlContext.Data.LoadFromEnumerable(emails), testFraction: 0.2, seed: 7);
Console.WriteLine($"{emails.Length} e-mails ({emails.Count(e => e.Label)} spam) from {dataFile}");

// 2. Trainer: the text column is tokenized inside the estimator with a word vocabulary learned from the training
//    e-mails; a small BERT-style Transformer encoder (mean pooling; or a bidirectional LSTM with max pooling with
//    --lstm) reads the first 64 words. Small on purpose: it trains in about a minute on two CPU cores.
var options = new NeuralTextBinaryOptions
{
    TextColumnName = nameof(ModelInput.Text),
    LabelColumnName = nameof(ModelInput.Label),
    Network = lstm ? TextEncoder.Lstm(hiddenSize: 32, pooling: TextPooling.Max) : TextEncoder.Transformer(layers: 1, heads: 2, pooling: TextPooling.Mean),
    EmbeddingDimensions = 32,
    MaxLength = 64,
    Epochs = 6,
    LearningRate = 3e-3,
    ValidationFraction = 0.1,
    EarlyStopping = new EarlyStopping("ValidationLoss", patience: 2, restoreBestWeights: true),
    Progress = new Progress<EpochMetrics>(m => Console.WriteLine($"  {m}")),
};
var trainer = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(options);

// 3. Train and evaluate on the held-out e-mails.
Console.WriteLine($"Training {options.Network} on about 80 % of them (10 % of those for validation) …");
var clock = Stopwatch.StartNew();
var model = trainer.Fit(split.TrainSet);
Console.WriteLine($"Trained in {clock.Elapsed.TotalSeconds:F1} s.");
var metrics = mlContext.BinaryClassification.Evaluate(model.Transform(split.TestSet));
Console.WriteLine($"Held-out accuracy {metrics.Accuracy:P2}, AUC {metrics.AreaUnderRocCurve:F4}, F1 {metrics.F1Score:F4}, " +
                  $"precision {metrics.PositivePrecision:P1}, recall {metrics.PositiveRecall:P1}.");

// 4. Learning curves.
var curves = Path.Combine(outputDirectory, "learning-curves.png");
TrainingPlots.SaveLearningCurves(model.LastTransformer.History, curves, $"{options.Network.Kind} on SpamAssassin ({emails.Length} e-mails)");
Console.WriteLine($"Wrote {curves}");

// 5. Save, then consume the saved model as an application would.
var modelPath = Path.Combine(outputDirectory, "spam-classifier.zip");
mlContext.Model.Save(model, split.TrainSet.Schema, modelPath);
Console.WriteLine($"Saved {modelPath} ({new FileInfo(modelPath).Length / 1024} KiB).");
foreach (var text in new[]
{
    "Re: patch for the build script\n\nThanks, I applied it and the nightly build passes again. See you at the meeting.",
    "LIMITED OFFER!!!\n\nGet your FREE credit report now. Click here to claim your prize, no obligation, act now!",
})
{
    var prediction = ModelConsumption.Predict(modelPath, text);
    Console.WriteLine($"  {(prediction.PredictedLabel ? "spam" : "ham "),-4} {prediction.Probability:P1}  {text.Split('\n')[0]}");
}
return 0;

static string FindUp(string relative)
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, relative);
        if (File.Exists(candidate))
            return candidate;
    }
    throw new FileNotFoundException($"'{relative}' not found above {AppContext.BaseDirectory}; run from the repository.");
}

static string FullCorpus()
{
    var cache = Environment.GetEnvironmentVariable("MLDX_DATA_CACHE")
        ?? Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "ml-deepextensions");
    var file = Path.Combine(cache, "spam-assassin", "full.jsonl");
    return File.Exists(file) ? file
        : throw new FileNotFoundException($"The full SpamAssassin corpus is not in '{file}': run eng/data/fetch-spam-assassin.sh first.", file);
}

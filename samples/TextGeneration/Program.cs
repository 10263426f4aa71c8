// Text generation, Model Builder style: learn a word vocabulary and a small GPT-style language model on real
// quotations, measure held-out perplexity against a unigram baseline, draw the learning curves, save the model,
// then load it back and generate as an app would.
// Data: the fortunes subset in data/fortunes (3,759 short quotations from Debian's `fortunes`; see data/README.md);
// every tenth quotation is held out. Run: dotnet run --project samples/TextGeneration [-- <output-directory> [epochs]]
using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Plots;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Training;
using TextGeneration;

var dataFile = FindUp(Path.Combine("data", "fortunes", "fortunes.tsv"));
var outputDirectory = Directory.CreateDirectory(args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "output")).FullName;
var epochs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8;
var mlContext = new MLContext(seed: 1);

// 1. Data: one quotation per row (the second column of the TSV file).
var quotations = File.ReadLines(dataFile).Skip(1).Select(line => new ModelInput { Text = line[(line.IndexOf('\t') + 1)..] }).ToArray();
var trainRows = quotations.Where((_, i) => i % 10 != 0).ToArray();
var train = mlContext.Data.LoadFromEnumerable(trainRows);
var test = mlContext.Data.LoadFromEnumerable(quotations.Where((_, i) => i % 10 == 0));

// 2. Pipeline: text → word ids (vocabulary learned from the training texts) → decoder-only Transformer.
var options = new LanguageModelOptions
{
    TokenColumnName = "Tokens",
    Dimensions = 64,
    Layers = 2,
    Heads = 4,
    Dropout = 0.1,
    Epochs = epochs,
    BatchSize = 32,
    Optimizer = OptimizerKind.AdamW,
    LearningRate = 3e-3,
    Schedule = LearningRateSchedule.Cosine(),
    GradientClipNorm = 1.0,
    ValidationFraction = 0.1,
    EarlyStopping = new EarlyStopping("ValidationLoss", patience: 3, restoreBestWeights: true),
    Generation = new GenerationOptions { Temperature = 0.8, TopK = 40, MaxNewTokens = 30, Seed = 7 },
    Progress = new Progress<EpochMetrics>(m => Console.WriteLine($"  {m}")),
};
var pipeline = mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Tokens", nameof(ModelInput.Text), maxVocabularySize: 2000, minFrequency: 2, maxLength: 32)
    .Append(mlContext.Transforms.Text.TrainLanguageModel(options));

// 3. Train, then compare held-out perplexity with the unigram baseline (word frequencies of the training texts).
Console.WriteLine($"Training a language model on {trainRows.Length} quotations …");
var clock = Stopwatch.StartNew();
var model = pipeline.Fit(train);
Console.WriteLine($"Trained in {clock.Elapsed.TotalSeconds:F1} s.");
var languageModel = model.LastTransformer;
Console.WriteLine(languageModel.Network.Summary(languageModel.MaxLength));
var metrics = mlContext.Transforms.Text.EvaluateLanguageModel(languageModel, test);
var unigram = LanguageModelMetrics.Unigram(languageModel.Tokenizer, train, test);
Console.WriteLine($"Held-out perplexity {metrics.Perplexity:F1} vs unigram baseline {unigram.Perplexity:F1} " +
                  $"({metrics.Tokens:N0} tokens of {metrics.Texts} quotations; next-word accuracy {metrics.Accuracy:P1} vs {unigram.Accuracy:P1}).");

// 4. Learning curves.
var curves = Path.Combine(outputDirectory, "learning-curves.png");
TrainingPlots.SaveLearningCurves(languageModel.History, curves, "GPT-style language model on fortunes");
Console.WriteLine($"Wrote {curves}");

// 5. Save, then consume the saved model as an application would.
var modelPath = Path.Combine(outputDirectory, "text-generator.zip");
mlContext.Model.Save(model, train.Schema, modelPath);
Console.WriteLine($"Saved {modelPath} ({new FileInfo(modelPath).Length / 1024} KiB).");
ModelConsumption.PrintContinuations(modelPath, "", "the computer", "a scientist", "never trust", "politics is");
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

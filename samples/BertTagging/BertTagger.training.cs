using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Text.Pretrained;
using ML.DeepExtensions.Text.Tagging;
using ML.DeepExtensions.Training;

namespace BertTagging;

/// <summary>Training, Model Builder style: the data, the pipeline and the training call, with nothing else mixed in.</summary>
public static partial class BertTagger
{
    /// <summary>The committed fortunes file copied next to the program (see the project file).</summary>
    public static string DataFile => Path.Combine(AppContext.BaseDirectory, "data", "fortunes.tsv");

    /// <summary>The tags, in key order.</summary>
    public static readonly string[] TagSet = ["O", "NUM", "DET", "PRON"];

    private static readonly HashSet<string> Numbers = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "hundred", "thousand", "million"];
    private static readonly HashSet<string> Determiners = ["the", "a", "an", "this", "these", "those", "every", "each", "some", "any", "no"];
    private static readonly HashSet<string> Pronouns = ["i", "you", "he", "she", "it", "we", "they", "me", "him", "her", "us", "them", "my", "your", "his", "its", "our", "their"];

    /// <summary>
    /// Real quotations, tagged word by word by fixed rules (a stand-in for an annotated corpus, which no package here has):
    /// NUM for digits and number words, DET and PRON from word lists, O otherwise.
    /// </summary>
    public static ModelInput[] LoadSentences() => File.ReadLines(DataFile).Skip(1)
        .Select(l => l[(l.IndexOf('\t') + 1)..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        .Where(words => words.Length is >= 4 and <= 30)
        .Select(words => new ModelInput { Sentence = string.Join(' ', words), Tags = words.Select(Tag).ToArray() })
        .ToArray();

    private static string Tag(string word)
    {
        var core = new string(word.Where(char.IsLetterOrDigit).ToArray()).ToLowerInvariant();
        return core.Any(char.IsDigit) || Numbers.Contains(core) ? "NUM" : Determiners.Contains(core) ? "DET" : Pronouns.Contains(core) ? "PRON" : "O";
    }

    /// <summary>Tags → keys (over <see cref="TagSet"/>), the token classifier, keys → tags.</summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, PretrainedBert bert, TrainingCallback? callback = null)
        => mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(ModelInput.Tags),
                keyData: mlContext.Data.LoadFromEnumerable(TagSet.Select(t => new TagRow { Tag = t })))
            .Append(mlContext.MulticlassClassification.Trainers.NeuralTokenClassifier(new NeuralTokenClassifierOptions
            {
                Encoder = bert,
                SentenceColumnName = nameof(ModelInput.Sentence),
                MaxLength = 96,
                Epochs = 2,
                BatchSize = 16,
                LearningRate = 2e-4,
                Callback = callback,
            }))
            .Append(mlContext.Transforms.Conversion.MapKeyToValue(nameof(ModelOutput.PredictedTags), "PredictedLabel"));

    /// <summary>Fits the pipeline on <paramref name="trainingData"/>.</summary>
    public static ITransformer Train(MLContext mlContext, IDataView trainingData, PretrainedBert bert, TrainingCallback? callback = null)
        => BuildPipeline(mlContext, bert, callback).Fit(trainingData);

    private sealed class TagRow
    {
        public string Tag { get; set; } = "";
    }
}

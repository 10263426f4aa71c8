using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Text.Tagging;
using ML.DeepExtensions.Text.Tests.Pretrained;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Text.Tests.Tagging;

/// <summary>NeuralTokenClassifier: MiniLM fine-tuned to tag every word of real sentences (see <see cref="RuleTaggedSentences"/>).</summary>
public sealed class TokenClassifierTests(ITestOutputHelper output)
{
    private static NeuralTokenClassifierOptions Options(int epochs = 1, int maxLength = 64, double learningRate = 1e-4) => new()
    {
        Encoder = MiniLMData.MiniLM,
        MaxLength = maxLength,
        Epochs = epochs,
        BatchSize = 16,
        LearningRate = learningRate,
    };

    [Fact]
    public void LabelCountNotWordCount_ThrowsNamingTheRowAndBothColumns_BeforeTraining()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, _) = RuleTaggedSentences.Build(6, 0);
        train[4].Tags = train[4].Tags[..^1];
        var progress = new EpochCounter();
        var options = Options();
        options.Progress = progress;
        var ex = Assert.Throws<InvalidDataException>(() => mlContext.MulticlassClassification.Trainers.NeuralTokenClassifier(options)
            .Fit(RuleTaggedSentences.Load(mlContext, train)));
        Assert.Contains("Row 4", ex.Message);
        Assert.Contains("'Label'", ex.Message);
        Assert.Contains("'Sentence'", ex.Message);
        Assert.Contains($"{train[4].Tags.Length} labels", ex.Message);
        Assert.Equal(0, progress.Epochs);
    }

    [Fact]
    public void SentenceLongerThanMaxLength_ThrowsNamingTheRowAndTheLengths()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, _) = RuleTaggedSentences.Build(3, 0);
        train[2] = RuleTaggedSentences.Tagged(string.Join(' ', Enumerable.Repeat("unbelievably", 40)));
        var ex = Assert.Throws<InvalidDataException>(() => mlContext.MulticlassClassification.Trainers.NeuralTokenClassifier(Options())
            .Fit(RuleTaggedSentences.Load(mlContext, train)));
        Assert.Contains("row 2", ex.Message);
        Assert.Contains("MaxLength=64", ex.Message);
    }

    [Fact]
    public void ScalarLabel_IsRejectedAlikeByGetOutputSchemaAndFit()
    {
        var mlContext = new MLContext(seed: 1);
        var rows = new[] { new { Sentence = "a b", Label = "x" }, new { Sentence = "c d", Label = "y" } };
        var data = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(mlContext.Data.LoadFromEnumerable(rows))
            .Transform(mlContext.Data.LoadFromEnumerable(rows));
        var trainer = mlContext.MulticlassClassification.Trainers.NeuralTokenClassifier(Options());
        var fromShape = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.GetOutputSchema(ML.DeepExtensions.TestSupport.Contract.ContractValues.Shape(data.Schema)));
        var fromFit = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(data));
        Assert.Equal(fromShape.Message, fromFit.Message);
        Assert.Contains("'Label'", fromFit.Message);
        Assert.Contains("vector of UInt32 keys", fromFit.Message);
    }

    [Fact]
    public void MissingEncoder_ThrowsNamingTheOption()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => new MLContext().MulticlassClassification.Trainers.NeuralTokenClassifier(new NeuralTokenClassifierOptions()));
        Assert.Contains("Encoder", ex.Message);
    }

    [Fact]
    [Trait("Category", "Accuracy")]
    [Trait("Category", "Slow")]
    public void RuleTaggedFortunes_FineTunedMiniLM_TagsUnseenSentences_AndReloadsIdentically()
    {
        var mlContext = new MLContext(seed: 1);
        var (trainRows, testRows) = RuleTaggedSentences.Build(300, 200);
        var train = RuleTaggedSentences.Load(mlContext, trainRows);
        var test = RuleTaggedSentences.Load(mlContext, testRows);

        var watch = Stopwatch.StartNew();
        using var model = mlContext.MulticlassClassification.Trainers.NeuralTokenClassifier(Options(epochs: 3, maxLength: 128, learningRate: 2e-4)).Fit(train);
        var trainingTime = watch.Elapsed;

        var scored = model.Transform(test);
        var predicted = scored.GetColumn<VBuffer<uint>>("PredictedLabel").Select(v => v.DenseValues().ToArray()).ToArray();
        var truth = test.GetColumn<VBuffer<uint>>("Label").Select(v => v.DenseValues().ToArray()).ToArray();
        var (accuracy, macroF1, perTag) = TagMetrics(truth, predicted);
        var majority = truth.SelectMany(t => t).GroupBy(t => t).Max(g => g.Count()) / (double)truth.Sum(t => t.Length);
        output.WriteLine($"Trained on {trainRows.Length} sentences in {trainingTime.TotalSeconds:F0} s; test {testRows.Length} sentences, {truth.Sum(t => t.Length)} words");
        output.WriteLine($"Word accuracy {accuracy:P2} (majority tag {majority:P2}); macro F1 over the 6 non-O tags {macroF1:F3}");
        output.WriteLine(string.Join("; ", perTag.Select(p => $"{p.Tag} F1 {p.F1:F3} ({p.Support})")));
        // Measured (2026-11-30, loaded 2-core machine): 96.7 % word accuracy against 79.2 % for the majority tag, macro F1 0.76;
        // the closed word classes ≥ 0.97, the suffix tags of unseen words lower (ING 0.79, ED 0.59, ADV 0.32 on 21 words).
        Assert.True(accuracy > 0.94, $"word accuracy {accuracy:P2}");
        Assert.True(macroF1 > 0.65, $"macro F1 {macroF1:F3}");
        Assert.All(perTag.Where(p => p.Tag is "DET" or "PRON"), p => Assert.True(p.F1 > 0.9, $"{p.Tag} F1 {p.F1:F3}"));

        // Key values are the tags: MapKeyToValue gives them back.
        var tags = mlContext.Transforms.Conversion.MapKeyToValue("PredictedTags", "PredictedLabel").Fit(scored).Transform(scored)
            .GetColumn<string[]>("PredictedTags").First();
        Assert.Equal(testRows[0].Tags.Length, tags.Length);
        Assert.All(tags, t => Assert.Contains(t, RuleTaggedSentences.TagSet));

        // Saved and loaded in a fresh context: the same predictions; PredictionEngine agrees with Transform.
        var path = Path.Combine(Path.GetTempPath(), $"tagger-{Guid.NewGuid():N}.zip");
        try
        {
            mlContext.Model.Save(model, test.Schema, path);
            var loadedContext = new MLContext(seed: 9);
            var loaded = loadedContext.Model.Load(path, out _);
            Assert.IsType<NeuralTokenClassifierTransformer>(loaded);
            var again = loaded.Transform(test).GetColumn<VBuffer<uint>>("PredictedLabel").Select(v => v.DenseValues().ToArray()).ToArray();
            Assert.Equal(predicted, again);
            var engine = loadedContext.Model.CreatePredictionEngine<RuleTaggedSentences.Row, Prediction>(loaded);
            // Transform predicts a cursor batch of sentences together (sorted by length); PredictionEngine one sentence alone.
            for (var i = 0; i < 20; i++)
                Assert.Equal(predicted[i], engine.Predict(testRows[i]).PredictedLabel);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Word accuracy, macro F1 over the tags other than O (key 1), and each tag's F1 and support.</summary>
    private static (double Accuracy, double MacroF1, (string Tag, double F1, int Support)[] PerTag) TagMetrics(uint[][] truth, uint[][] predicted)
    {
        var pairs = truth.Zip(predicted, (t, p) => t.Zip(p)).SelectMany(x => x).ToArray();
        var accuracy = pairs.Count(p => p.First == p.Second) / (double)pairs.Length;
        var perTag = Enumerable.Range(2, RuleTaggedSentences.TagSet.Length - 1).Select(k =>
        {
            var key = (uint)k;
            var tp = pairs.Count(p => p.First == key && p.Second == key);
            var fp = pairs.Count(p => p.First != key && p.Second == key);
            var fn = pairs.Count(p => p.First == key && p.Second != key);
            var f1 = tp == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn);
            return (RuleTaggedSentences.TagSet[k - 1], f1, tp + fn);
        }).ToArray();
        return (accuracy, perTag.Average(p => p.Item2), perTag);
    }

    private sealed class Prediction
    {
        [KeyType(7)]
        public uint[] PredictedLabel { get; set; } = [];
    }

    private sealed class EpochCounter : IProgress<ML.DeepExtensions.Training.EpochMetrics>
    {
        public int Epochs { get; private set; }

        public void Report(ML.DeepExtensions.Training.EpochMetrics value) => Epochs++;
    }
}

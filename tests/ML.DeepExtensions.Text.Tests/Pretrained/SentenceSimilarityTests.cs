using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Text.Similarity;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Text.Tests.Pretrained;

/// <summary>NeuralSentenceSimilarity: a fine-tuned MiniLM bi-encoder on real fortune halves (see <see cref="SentencePairs"/>).</summary>
public sealed class SentenceSimilarityTests(ITestOutputHelper output)
{
    [Fact]
    public void EmptySecondSentence_ThrowsNamingTheColumnAndRow()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, _) = SentencePairs.Build(4, 2);
        train[3].Sentence2 = "  ";
        var trainer = mlContext.Regression.Trainers.NeuralSentenceSimilarity(MiniLMData.MiniLM, epochs: 1);
        var ex = Assert.Throws<InvalidOperationException>(() => trainer.Fit(mlContext.Data.LoadFromEnumerable(train)));
        Assert.Contains("'Sentence2'", ex.Message);
        Assert.Contains("row 3", ex.Message);
    }

    [Fact]
    public void MissingEncoder_ThrowsNamingTheOption()
    {
        var mlContext = new MLContext(seed: 1);
        var ex = Assert.Throws<ArgumentNullException>(() => mlContext.Regression.Trainers.NeuralSentenceSimilarity(new NeuralSentenceSimilarityOptions()));
        Assert.Contains("Encoder", ex.Message);
    }

    [Fact]
    [Trait("Category", "Accuracy")]
    [Trait("Category", "Slow")]
    public void FortuneHalves_FineTunedMiniLM_SeparatesOwnHalvesFromRandomOnes()
    {
        var mlContext = new MLContext(seed: 1);
        var (train, test) = SentencePairs.Build(150, 100);
        var testData = mlContext.Data.LoadFromEnumerable(test);
        var labels = test.Select(p => p.Label).ToArray();

        // Zero-shot baseline: cosine of the pretrained sentence embeddings, no training.
        var embed = mlContext.Transforms.Text.EmbedSentences(MiniLMData.MiniLM, "E1", "Sentence1", maxLength: 64)
            .Append(mlContext.Transforms.Text.EmbedSentences(MiniLMData.MiniLM, "E2", "Sentence2", maxLength: 64));
        var embedded = embed.Fit(testData).Transform(testData);
        var zeroShot = embedded.GetColumn<float[]>("E1").Zip(embedded.GetColumn<float[]>("E2"), (a, b) => a.Zip(b).Sum(p => p.First * p.Second)).ToArray();
        var zeroShotAuc = SentencePairs.Auc(zeroShot, labels);

        var watch = Stopwatch.StartNew();
        var model = mlContext.Regression.Trainers.NeuralSentenceSimilarity(new NeuralSentenceSimilarityOptions
        {
            Encoder = MiniLMData.MiniLM,
            MaxLength = 64,
            Epochs = 3,
            BatchSize = 16,
            LearningRate = 5e-5,
        }).Fit(mlContext.Data.LoadFromEnumerable(train));
        var scores = model.Transform(testData).GetColumn<float>("Score").ToArray();
        var auc = SentencePairs.Auc(scores, labels);
        var metrics = mlContext.Regression.Evaluate(model.Transform(testData));
        output.WriteLine($"{test.Count} held-out pairs ({train.Count} for training, {watch.Elapsed.TotalSeconds:F0} s): AUC fine-tuned {auc:F4}, zero-shot cosine {zeroShotAuc:F4}; " +
                         $"RMSE {metrics.RootMeanSquaredError:F3}, R² {metrics.RSquared:F3}");
        // Measured (seed 1): fine-tuned AUC 0.9143, zero-shot 0.8815, R² 0.406 (205 s on the 2-core VM).
        Assert.True(auc >= 0.88, $"AUC {auc:F4} is below 0.88");
        Assert.True(auc > zeroShotAuc, $"fine-tuning did not improve on the pretrained cosine: {auc:F4} vs zero-shot {zeroShotAuc:F4}");
    }
}

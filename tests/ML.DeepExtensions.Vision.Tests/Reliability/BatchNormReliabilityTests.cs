using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Vision.Classification;
using ML.DeepExtensions.Vision.Zoo;
using Xunit;

namespace ML.DeepExtensions.Vision.Tests.Reliability;

/// <summary>Issue 10: a zoo network with batch norm never trains on a final batch of one image.</summary>
[Trait("Category", "Reliability")]
public class BatchNormReliabilityTests
{
    private sealed class PixelRow
    {
        public float[] Pixels { get; set; } = [];
        public uint Label { get; set; }
    }

    [Fact]
    public void ResNet18_FortyImagesInBatchesOf39_ScoresStayFinite()
    {
        // The case: 40 images, batch 39 → a last batch of one image; at 32×32 ResNet-18's last stage is 1×1, so its
        // batch norms saw one value per channel, running_var became NaN and every score was NaN while Fit reported a loss.
        var mlContext = new MLContext(4);
        var random = new Random(8);
        var rows = Enumerable.Range(0, 40).Select(i => new PixelRow
        {
            Pixels = Enumerable.Range(0, 3 * 32 * 32).Select(_ => (float)random.NextDouble()).ToArray(),
            Label = (uint)(i % 4),
        }).ToArray();
        var schema = SchemaDefinition.Create(typeof(PixelRow));
        schema[nameof(PixelRow.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3 * 32 * 32);
        schema[nameof(PixelRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), 4);
        var data = mlContext.Data.LoadFromEnumerable(rows, schema);
        var options = new CnnImageClassifierOptions
        {
            ImageColumnName = nameof(PixelRow.Pixels),
            InputShape = [3, 32, 32],
            Network = VisionArchitectures.ResNet18(width: 0.25),
            Epochs = 1,
            BatchSize = 39,
        };
        var model = mlContext.MulticlassClassification.Trainers.CnnImageClassifier(options).Fit(data);
        var scores = model.Transform(data).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        Assert.All(scores, s => Assert.True(float.IsFinite(s), $"score {s}"));
    }
}

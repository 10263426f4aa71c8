using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Vision;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.TrainingProbe;

/// <summary>The training runs the probe performs, shared with the tests that compare against them in-process.</summary>
public static class TrainingScenarios
{
    /// <summary>Seed of the <c>MLContext</c> of every scenario.</summary>
    public const int Seed = 17;

    /// <summary>Channels, height and width of the synthetic images.</summary>
    public static readonly int[] ImageShape = [3, 8, 8];

    /// <summary>
    /// Every source of randomness the engine has: shuffling, augmentation layers (flip, crop, erasing), batch norm
    /// statistics, a residual block with drop-path and dropout.
    /// </summary>
    public static Network RandomNetwork()
        => Network.Create()
            .RandomFlip().RandomCrop(2).RandomErasing(probability: 0.5)
            .Conv2d(8, 3, padding: 1).BatchNorm().ReLU()
            .Residual(Network.Create().Conv2d(8, 3, padding: 1).BatchNorm().ReLU().Dropout(0.2), activation: ActivationKind.ReLU, dropPath: 0.3)
            .MaxPool2d(2).Flatten().Dense(16).ReLU().Dropout(0.3);

    /// <summary>Seeded synthetic images (pixel vectors in [0, 1]) whose class is the brightest quadrant.</summary>
    public static IDataView Images(MLContext mlContext, int rows)
    {
        var random = new Random(5);
        var size = ImageShape.Aggregate(1, (a, b) => a * b);
        var data = Enumerable.Range(0, rows).Select(_ =>
        {
            var label = (uint)random.Next(4);
            var pixels = new float[size];
            for (var i = 0; i < size; i++)
            {
                var (y, x) = (i / ImageShape[2] % ImageShape[1], i % ImageShape[2]);
                var quadrant = (y < ImageShape[1] / 2 ? 0 : 2) + (x < ImageShape[2] / 2 ? 0 : 1);
                pixels[i] = (float)(random.NextDouble() * 0.5 + (quadrant == label ? 0.5 : 0));
            }
            return new ImageRow { Features = pixels, Label = label };
        }).ToArray();
        var schema = SchemaDefinition.Create(typeof(ImageRow));
        schema[nameof(ImageRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        schema[nameof(ImageRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), 4);
        return mlContext.Data.Cache(mlContext.Data.LoadFromEnumerable(data, schema));
    }

    /// <summary>Options of the kill-and-resume run.</summary>
    public static NeuralNetworkMulticlassOptions ResumeOptions(int epochs) => new()
    {
        Network = RandomNetwork(),
        InputShape = ImageShape,
        Epochs = epochs,
        BatchSize = 15,   // 301 rows: every epoch ends with a batch of one row, merged for batch norm
        LearningRate = 3e-3,
    };

    /// <summary>Rows of the kill-and-resume run.</summary>
    public const int ResumeRows = 301;

    /// <summary>A network slow enough that an exit lands while a step runs: an MLP on wide features.</summary>
    public static NeuralNetworkMulticlassOptions LongRunOptions() => new()
    {
        Network = Network.Mlp([512, 512]),
        InputShape = ImageShape,
        Epochs = 1000,
        BatchSize = 64,
    };

    /// <summary>A row of <see cref="Images"/>.</summary>
    public sealed class ImageRow
    {
        /// <summary>Pixels, channel-major.</summary>
        public float[] Features { get; set; } = [];

        /// <summary>Zero-based class (LoadFromEnumerable makes it key value + 1).</summary>
        public uint Label { get; set; }
    }
}

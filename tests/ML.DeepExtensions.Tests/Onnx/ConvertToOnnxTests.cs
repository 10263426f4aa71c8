using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ML.DeepExtensions.Networks;
using Xunit;

namespace ML.DeepExtensions.Tests.Onnx;

/// <summary>
/// ML.NET's own <c>mlContext.Model.ConvertToOnnx</c> on pipelines ending in our trainer: the whole pipeline (ML.NET's
/// normalizer + our network) is exported and scores like the ML.NET model — it used to write a graph in which Score and
/// PredictedLabel were graph inputs — and a pipeline whose feature column cannot be exported fails naming our step.
/// </summary>
public sealed class ConvertToOnnxTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mldx-convert").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private sealed class PixelRow
    {
        [VectorType(64)]
        public float[] Pixels { get; set; } = [];
    }

    private static (IDataView Train, IDataView Scoring, float[][] Pixels) Digits(MLContext mlContext)
    {
        var raw = mlContext.Data.LoadFromTextFile(TestData.RepoFile("data/digits/digits.csv"), new[]
        {
            new TextLoader.Column("Pixels", DataKind.Single, 0, 63),
            new TextLoader.Column("Digit", DataKind.String, 64),
        }, separatorChar: ',');
        var keyed = mlContext.Data.Cache(mlContext.Transforms.Conversion.MapValueToKey("Label", "Digit").Fit(raw).Transform(raw));
        var train = mlContext.Data.TakeRows(keyed, 1200);
        var pixels = mlContext.Data.SkipRows(keyed, 1500).GetColumn<float[]>("Pixels").ToArray();
        // Scoring input: only the pixels, from memory (the walk of ML.NET's exporter stops at a plain data view).
        var scoring = mlContext.Data.LoadFromEnumerable(pixels.Select(p => new PixelRow { Pixels = p }));
        return (train, scoring, pixels);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void PipelineWithNormalizerAndNetwork_ConvertToOnnx_ScoresLikeTheModel(int opset)
    {
        var mlContext = new MLContext(1);
        var (train, scoring, pixels) = Digits(mlContext);
        var pipeline = mlContext.Transforms.NormalizeMinMax("Features", "Pixels")
            .Append(mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions
            {
                Network = Network.Create().Reshape(1, 8, 8).Conv2d(4, 3, padding: 1).BatchNorm().ReLU().GlobalAveragePool().Dense(16).Hardswish(),
                Epochs = 3,
            }));
        var model = pipeline.Fit(train);
        var path = Path.Combine(_directory, "pipeline.onnx");
        using (var stream = File.Create(path))
            mlContext.Model.ConvertToOnnx(model, scoring, opset, stream);

        var scored = model.Transform(scoring);
        var expectedScores = scored.GetColumn<float[]>("Score").ToArray();
        var expectedKeys = scored.GetColumn<uint>("PredictedLabel").ToArray();

        using var session = new InferenceSession(path);
        Assert.Equal(["Pixels"], session.InputMetadata.Keys.ToArray());      // the network is in the graph, not fed to it
        var input = NamedOnnxValue.CreateFromTensor("Pixels", new DenseTensor<float>(pixels.SelectMany(p => p).ToArray(), [pixels.Length, 64]));
        using var results = session.Run([input]);
        var scores = results.Single(r => r.Name == "Score.output").AsTensor<float>().ToArray();
        var keys = results.Single(r => r.Name == "PredictedLabel.output").AsTensor<uint>().ToArray();

        Assert.True(expectedScores.SelectMany(s => s).Zip(scores).Max(p => Math.Abs(p.First - p.Second)) <= 1e-4f);
        Assert.Equal(expectedKeys, keys);

        // ML.NET's own ONNX scoring of the exported pipeline (it names the columns back without ".output") gives the same labels.
        var onnxScored = mlContext.Transforms.ApplyOnnxModel(path).Fit(scoring).Transform(scoring);
        var onnxKeys = onnxScored.GetColumn<VBuffer<uint>>("PredictedLabel").Select(v => v.GetValues()[0]).ToArray();
        Assert.Equal(expectedKeys, onnxKeys);
    }

    [Fact]
    public void BinaryAndRegressionPipelines_ConvertToOnnx_ScoreLikeTheModel()
    {
        var mlContext = new MLContext(1);
        var (train, scoring, pixels) = Digits(mlContext);
        var input = NamedOnnxValue.CreateFromTensor("Pixels", new DenseTensor<float>(pixels.SelectMany(p => p).ToArray(), [pixels.Length, 64]));
        var network = Network.Create().Dense(16).LayerNorm().GELU().Dense(8).ReLU();

        // Binary: is the digit odd? Score (logit), Probability, PredictedLabel (Boolean).
        var binaryTrain = mlContext.Transforms.CustomMapping<DigitLabel, OddLabel>((d, o) => o.Odd = int.Parse(d.Digit.ToString(), System.Globalization.CultureInfo.InvariantCulture) % 2 == 1, null).Fit(train).Transform(train);
        var binary = mlContext.Transforms.NormalizeMinMax("Features", "Pixels")
            .Append(mlContext.BinaryClassification.Trainers.NeuralNetwork(new NeuralNetworkBinaryOptions { LabelColumnName = "Odd", Network = network, Epochs = 2 }))
            .Fit(binaryTrain);
        using (var stream = new MemoryStream())
        {
            mlContext.Model.ConvertToOnnx(binary, scoring, stream);
            using var session = new InferenceSession(stream.ToArray());
            using var results = session.Run([input]);
            var scored = binary.Transform(scoring);
            AssertClose(scored.GetColumn<float>("Score").ToArray(), results.Single(r => r.Name == "Score.output").AsTensor<float>().ToArray());
            AssertClose(scored.GetColumn<float>("Probability").ToArray(), results.Single(r => r.Name == "Probability.output").AsTensor<float>().ToArray());
            Assert.Equal(scored.GetColumn<bool>("PredictedLabel").ToArray(), results.Single(r => r.Name == "PredictedLabel.output").AsTensor<bool>().ToArray());
        }

        // Regression on the digit's value.
        var regressionTrain = mlContext.Transforms.CustomMapping<DigitLabel, DigitValue>((d, o) => o.Value = int.Parse(d.Digit.ToString(), System.Globalization.CultureInfo.InvariantCulture), null).Fit(train).Transform(train);
        var regression = mlContext.Transforms.NormalizeMinMax("Features", "Pixels")
            .Append(mlContext.Regression.Trainers.NeuralNetwork(new NeuralNetworkRegressionOptions { LabelColumnName = "Value", Network = network, Epochs = 2 }))
            .Fit(regressionTrain);
        using (var stream = new MemoryStream())
        {
            mlContext.Model.ConvertToOnnx(regression, scoring, 12, stream);
            using var session = new InferenceSession(stream.ToArray());
            using var results = session.Run([input]);
            AssertClose(regression.Transform(scoring).GetColumn<float>("Score").ToArray(), results.Single(r => r.Name == "Score.output").AsTensor<float>().ToArray());
        }
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)) <= 1e-4f);
    }

    private sealed class DigitLabel
    {
        public ReadOnlyMemory<char> Digit { get; set; }
    }

    private sealed class OddLabel
    {
        public bool Odd { get; set; }
    }

    private sealed class DigitValue
    {
        public float Value { get; set; }
    }

    [Fact]
    public void PipelineWhoseFeaturesCannotBeExported_ConvertToOnnx_ThrowsNamingOurStep()
    {
        var mlContext = new MLContext(1);
        var (train, scoring, _) = Digits(mlContext);
        var pipeline = mlContext.Transforms.CustomMapping<PixelRow, FeatureRow>((input, output) => output.Features = input.Pixels.Select(p => p / 16).ToArray(), null)
            .Append(mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 1 }));
        var model = pipeline.Fit(train);
        using var stream = new MemoryStream();

        var ex = Assert.ThrowsAny<Exception>(() => mlContext.Model.ConvertToOnnx(model, scoring, stream));
        var message = ex is NotSupportedException ? ex.Message : ex.InnerException?.Message ?? ex.Message;
        Assert.Contains("MulticlassClassification network step", message);
        Assert.Contains("'Features'", message);
        Assert.Contains("ExportToOnnx", message);
        Assert.Equal(0, stream.Length);
    }

    private sealed class FeatureRow
    {
        [VectorType(64)]
        public float[] Features { get; set; } = [];
    }
}

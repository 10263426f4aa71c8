using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx;
using Xunit;

namespace ML.DeepExtensions.Tests.Onnx;

/// <summary>ExportToOnnx on fitted trainers: the exported graph scores like Transform (heads, names, metadata, dynamic batch).</summary>
public sealed class OnnxExportTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mldx-onnx").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (float[] Features, int Rows) Features(IDataView data)
    {
        var rows = data.GetColumn<float[]>("Features").ToArray();
        return (rows.SelectMany(r => r).ToArray(), rows.Length);
    }

    private static Dictionary<string, float[]> RunFloats(InferenceSession session, float[] features, int rows, int size, out Dictionary<string, long[]> longs, out Dictionary<string, bool[]> bools)
    {
        var input = NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(features, [rows, size]));
        using var results = session.Run([input]);
        longs = results.Where(r => r.ElementType == TensorElementType.Int64).ToDictionary(r => r.Name, r => r.AsTensor<long>().ToArray());
        bools = results.Where(r => r.ElementType == TensorElementType.Bool).ToDictionary(r => r.Name, r => r.AsTensor<bool>().ToArray());
        return results.Where(r => r.ElementType == TensorElementType.Float).ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }

    [Fact]
    public void MulticlassCnn_ExportToOnnx_ScoresAndLabelsEqualTransform()
    {
        var mlContext = new MLContext(1);
        var (train, test) = TestData.DigitsSplit(mlContext);
        var network = Network.Create().Reshape(1, 8, 8).Conv2d(4, 3, padding: 1).BatchNorm().ReLU().MaxPool2d(2).Flatten().Dense(16).Dropout(0.2).ReLU();
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = network, Epochs = 2 }).Fit(train);
        using var stream = new MemoryStream();
        model.ExportToOnnx(stream);

        var scored = model.Transform(test);
        var expectedScores = TestData.Scores(scored);
        var expectedKeys = scored.GetColumn<uint>("PredictedLabel").ToArray();
        var (features, rows) = Features(test);
        using var session = new InferenceSession(stream.ToArray());
        var floats = RunFloats(session, features, rows, 64, out var longs, out _);

        Assert.Equal(-1, session.InputMetadata["Features"].Dimensions[0]);   // dynamic batch
        Assert.Equal(expectedScores.Length, floats["Score"].Length);
        Assert.True(expectedScores.Zip(floats["Score"]).Max(p => Math.Abs(p.First - p.Second)) <= 1e-4f);
        Assert.Equal(expectedKeys, longs["PredictedLabel"].Select(l => (uint)(l + 1)).ToArray());
        var metadata = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("MulticlassClassification", metadata["task"]);
        Assert.Equal("64", metadata["input_shape"]);
        Assert.Equal(model.ClassNames, JsonSerializer.Deserialize<string[]>(metadata["class_names"]));
        Assert.Equal(17, OpsetOf(stream.ToArray()));
    }

    [Fact]
    public void BinaryModel_ExportToOnnxFile_ScoreProbabilityAndLabelEqualTransform()
    {
        var mlContext = new MLContext(1);
        var random = new Random(3);
        var x = Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, 6).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var y = x.Select(r => r[0] + r[1] * r[2] > 0).ToArray();
        var data = TestData.FromRows(mlContext, x, y);
        var model = mlContext.BinaryClassification.Trainers.NeuralNetwork(new NeuralNetworkBinaryOptions
        {
            Network = Network.Create().Dense(12).LayerNorm().GELU().Dense(8).SiLU(),
            Epochs = 3,
        }).Fit(data);
        var path = Path.Combine(_directory, "binary.onnx");
        model.ExportToOnnx(path, new OnnxExportOptions { OpsetVersion = 13, Metadata = { ["owner"] = "tests" } });

        var scored = model.Transform(data);
        using var session = new InferenceSession(path);
        var floats = RunFloats(session, x.SelectMany(r => r).ToArray(), x.Length, 6, out _, out var bools);
        Assert.True(TestData.Scores(scored).Zip(floats["Score"]).Max(p => Math.Abs(p.First - p.Second)) <= 1e-4f);
        Assert.True(TestData.Scores(scored, "Probability").Zip(floats["Probability"]).Max(p => Math.Abs(p.First - p.Second)) <= 1e-4f);
        Assert.Equal(scored.GetColumn<bool>("PredictedLabel").ToArray(), bools["PredictedLabel"]);
        Assert.Equal("tests", session.ModelMetadata.CustomMetadataMap["owner"]);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void RegressionModel_ExportToOnnx_ScoreEqualsTransformAtAnyBatchSize()
    {
        var mlContext = new MLContext(1);
        var (train, test) = TestData.DiabetesSplit(mlContext);
        var model = mlContext.Regression.Trainers.NeuralNetwork(new NeuralNetworkRegressionOptions { Network = Network.Mlp([16], batchNorm: true), Epochs = 3 }).Fit(train);
        using var stream = new MemoryStream();
        model.ExportToOnnx(stream);
        var expected = TestData.Scores(model.Transform(test));
        var (features, rows) = Features(test);
        using var session = new InferenceSession(stream.ToArray());
        foreach (var batch in new[] { 1, rows })
        {
            var scores = RunFloats(session, features.Take(batch * 10).ToArray(), batch, 10, out _, out _)["Score"];
            Assert.Equal(batch, scores.Length);
            Assert.True(expected.Take(batch).Zip(scores).Max(p => Math.Abs(p.First - p.Second)) <= 1e-4f);
        }
    }

    [Fact]
    public void ModelWithALayerWithoutLowering_ExportToOnnxFile_ThrowsNamingTheLayerAndWritesNothing()
    {
        LayerRegistry.Register<NoOnnxLayer>("TestNoOnnx");
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions
        {
            Network = Network.Create().Dense(8).Add(new NoOnnxLayer()),
            Epochs = 1,
        }).Fit(mlContext.Data.TakeRows(train, 64));
        var path = Path.Combine(_directory, "unsupported.onnx");
        var ex = Assert.Throws<NotSupportedException>(() => model.ExportToOnnx(path));
        Assert.Contains("NoOnnx()", ex.Message);
        Assert.Contains("'TestNoOnnx'", ex.Message);
        Assert.Contains("no ONNX lowering", ex.Message);
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".tmp"));
    }

    /// <summary>A third-party layer kind that declares no ONNX lowering.</summary>
    public sealed class NoOnnxLayer : Layer
    {
        /// <inheritdoc />
        public override string ToString() => "NoOnnx()";

        /// <inheritdoc />
        public override int[] InferOutputShape(int[] input, int index) => (int[])input.Clone();

        /// <inheritdoc />
        public override TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> Build(int[] input, BuildContext context)
            => TorchSharp.torch.nn.Identity();
    }

    [Theory]
    [InlineData(10)]
    [InlineData(22)]
    public void ExportToOnnx_OpsetOutOfRange_ThrowsWithParameterName(int opset)
    {
        var mlContext = new MLContext(1);
        var (train, _) = TestData.DigitsSplit(mlContext);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([4]), Epochs = 1 })
            .Fit(mlContext.Data.TakeRows(train, 64));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => model.ExportToOnnx(new MemoryStream(), new OnnxExportOptions { OpsetVersion = opset }));
        Assert.Equal("OpsetVersion", ex.ParamName);
        Assert.Contains($"Received: OpsetVersion={opset}", ex.Message);
    }

    /// <summary>The default-domain opset written in a model (read back with the vision package's approach: field numbers).</summary>
    internal static long OpsetOf(byte[] model)
    {
        var input = new Google.Protobuf.CodedInputStream(model);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (Google.Protobuf.WireFormat.GetTagFieldNumber(tag) != 8)
            {
                input.SkipLastField();
                continue;
            }
            var opset = input.ReadBytes().CreateCodedInput();
            while ((tag = opset.ReadTag()) != 0)
            {
                if (Google.Protobuf.WireFormat.GetTagFieldNumber(tag) == 2)
                    return opset.ReadInt64();
                opset.SkipLastField();
            }
        }
        return -1;
    }
}

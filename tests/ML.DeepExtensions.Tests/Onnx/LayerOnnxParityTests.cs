using System;
using System.Collections.Generic;
using System.Linq;
using ML.DeepExtensions.Networks;
using Xunit;

namespace ML.DeepExtensions.Tests.Onnx;

/// <summary>Every core layer kind: ONNX Runtime's outputs equal TorchSharp's within 1e-4 (max abs) at batch sizes 1 and 5.</summary>
public class LayerOnnxParityTests
{
    private const float Tolerance = 1e-4f;

    private static readonly Dictionary<string, (Network Network, int[] Shape)> Cases = new()
    {
        ["Dense on (features)"] = (Network.Create().Dense(7), [6]),
        ["Dense without bias on (length, features)"] = (Network.Create().Dense(5, useBias: false), [3, 4]),
        ["Dense on (length, features)"] = (Network.Create().Dense(5), [3, 4]),
        ["Conv1d stride 2 padding 1"] = (Network.Create().Add(new ConvolutionLayer(1, 4, 3, stride: 2, padding: 1)), [2, 11]),
        ["Conv2d"] = (Network.Create().Conv2d(4, 3, stride: 1, padding: 1), [3, 8, 8]),
        ["Conv2d grouped, no bias, stride 2"] = (Network.Create().Conv2d(6, 3, stride: 2, padding: 1, groups: 2, useBias: false), [4, 9, 9]),
        ["Conv2d depthwise"] = (Network.Create().Conv2d(4, 3, padding: 1, groups: 4), [4, 6, 6]),
        ["MaxPool1d"] = (Network.Create().MaxPool1d(2), [3, 9]),
        ["AvgPool1d stride 1"] = (Network.Create().AvgPool1d(3, 1), [3, 9]),
        ["MaxPool2d padding 1"] = (Network.Create().MaxPool2d(3, 2, padding: 1), [2, 9, 9]),
        ["AvgPool2d padding 1 (padding counts in the mean)"] = (Network.Create().AvgPool2d(3, 2, padding: 1), [2, 9, 9]),
        ["AdaptiveAvgPool2d, even bins"] = (Network.Create().AdaptiveAvgPool2d(4), [3, 8, 8]),
        ["AdaptiveAvgPool2d, uneven overlapping bins"] = (Network.Create().AdaptiveAvgPool2d(3), [3, 7, 5]),
        ["AdaptiveAvgPool2d, upsampling"] = (Network.Create().AdaptiveAvgPool2d(4), [2, 3, 3]),
        ["GlobalAveragePool 2-D"] = (Network.Create().GlobalAveragePool(), [3, 5, 5]),
        ["GlobalAveragePool 1-D"] = (Network.Create().GlobalAveragePool(), [3, 6]),
        ["Flatten"] = (Network.Create().Flatten().Dense(3), [2, 3, 4]),
        ["Reshape with -1"] = (Network.Create().Reshape(-1, 4).Dense(2), [2, 3, 4]),
        ["BatchNorm on (features)"] = (Network.Create().BatchNorm(), [6]),
        ["BatchNorm on (channels, length)"] = (Network.Create().BatchNorm(), [3, 8]),
        ["BatchNorm on (channels, height, width), epsilon 1e-3"] = (Network.Create().BatchNorm(epsilon: 1e-3), [3, 5, 5]),
        ["LayerNorm on (features)"] = (Network.Create().LayerNorm(), [5]),
        ["LayerNorm on (length, features)"] = (Network.Create().LayerNorm(1e-6), [3, 4]),
        ["Dropout"] = (Network.Create().Dense(4).Dropout(0.5), [6]),
        ["ReLU"] = (Network.Create().ReLU(), [6]),
        ["LeakyReLU 0.2"] = (Network.Create().LeakyReLU(0.2), [6]),
        ["Sigmoid"] = (Network.Create().Sigmoid(), [6]),
        ["Tanh"] = (Network.Create().Tanh(), [6]),
        ["Softmax over the last dimension"] = (Network.Create().Softmax(), [3, 4]),
        ["GELU"] = (Network.Create().GELU(), [6]),
        ["SiLU"] = (Network.Create().SiLU(), [6]),
        ["ReLU6"] = (Network.Create().ReLU6(), [6]),
        ["Hardswish"] = (Network.Create().Hardswish(), [6]),
        ["Residual, identity shortcut, ReLU"] = (Network.Create().Residual(Network.Create().Conv2d(3, 3, padding: 1).BatchNorm().ReLU().Conv2d(3, 3, padding: 1), activation: ActivationKind.ReLU), [3, 6, 6]),
        ["Residual with a strided shortcut"] = (Network.Create().Residual(
            Network.Create().Conv2d(4, 3, stride: 2, padding: 1, useBias: false).BatchNorm(),
            Network.Create().Conv2d(4, 1, stride: 2, useBias: false).BatchNorm(), ActivationKind.ReLU, dropPath: 0.2), [2, 6, 6]),
        ["SqueezeExcitation (SiLU)"] = (Network.Create().SqueezeExcitation(2, ActivationKind.SiLU), [4, 5, 5]),
        ["LSTM, last state"] = (Network.Create().Lstm(5), [4, 3]),
        ["LSTM, 2 layers, bidirectional, sequences"] = (Network.Create().Lstm(4, layers: 2, bidirectional: true, returnSequences: true, dropout: 0.3), [5, 3]),
        ["GRU, bidirectional, last state"] = (Network.Create().Gru(4, bidirectional: true), [6, 2]),
        ["GRU, 2 layers, sequences"] = (Network.Create().Gru(3, layers: 2, returnSequences: true).Flatten().Dense(2), [4, 3]),
        ["Mlp with batch norm and dropout"] = (Network.Mlp([8, 4], ActivationKind.Tanh, 0.3, batchNorm: true).Dense(3), [5]),
    };

    public static IEnumerable<object[]> CaseNames => Cases.Keys.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Layer_Opset17_MatchesTorchSharp(string name)
    {
        var (network, shape) = Cases[name];
        var differences = OnnxParity.MaxAbsDifferences(network, shape, opset: 17);
        Assert.All(differences, d => Assert.True(d <= Tolerance, $"{name}: max abs difference {d}, largest output {OnnxParity.LastOutputMagnitude}"));
    }

    [Theory]
    [InlineData("LayerNorm on (length, features)")]
    [InlineData("Hardswish")]
    [InlineData("GlobalAveragePool 2-D")]
    [InlineData("AdaptiveAvgPool2d, uneven overlapping bins")]
    [InlineData("SqueezeExcitation (SiLU)")]
    [InlineData("ReLU6")]
    [InlineData("Softmax over the last dimension")]
    public void Layer_Opset12AndOpset18_MatchTorchSharp(string name)
    {
        // Opset 12: LayerNorm and HardSwish decomposed, ReduceMean axes as attribute (ML.NET's ConvertToOnnx caps at 12);
        // opset 18: ReduceMean axes as an input.
        var (network, shape) = Cases[name];
        foreach (var opset in new[] { 12, 18 })
        {
            var differences = OnnxParity.MaxAbsDifferences(network, shape, opset);
            Assert.All(differences, d => Assert.True(d <= Tolerance, $"{name}, opset {opset}: max abs difference {d}"));
        }
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void EveryLayerCase_AtOpsets12And17_PassesTheOnnxChecker()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("mldx-onnx-check").FullName;
        try
        {
            var paths = new List<string>();
            foreach (var (name, (network, shape)) in Cases)
            {
                foreach (var opset in new[] { 12, 17 })
                {
                    var path = System.IO.Path.Combine(directory, $"{paths.Count}.onnx");
                    OnnxParity.MaxAbsDifferences(network, shape, opset, batches: [2], saveTo: path);
                    paths.Add(path);
                }
            }
            var summary = OnnxChecker.Check(paths);
            Assert.StartsWith($"ok {paths.Count}", summary);
        }
        finally
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Embedding_MatchesTorchSharp_OnTokenIds()
    {
        var network = Network.Create().Embedding(10, 4).Flatten();
        var differences = OnnxParity.MaxAbsDifferences(network, [7], value: r => r.Next(10));
        Assert.All(differences, d => Assert.True(d <= Tolerance, $"max abs difference {d}"));
    }

    [Fact]
    public void LayerWithoutLowering_ThrowsNotSupportedNamingTheLayer()
    {
        var network = Network.Create().Dense(4).Add(new UnexportableLayer());
        var ex = Assert.Throws<NotSupportedException>(() => OnnxParity.MaxAbsDifferences(network, [3]));
        Assert.Contains("Unexportable", ex.Message);
        Assert.Contains("no ONNX lowering", ex.Message);
    }

    private sealed class UnexportableLayer : Layer
    {
        public override string ToString() => "Unexportable";

        public override int[] InferOutputShape(int[] input, int index) => (int[])input.Clone();

        public override TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> Build(int[] input, BuildContext context)
            => TorchSharp.torch.nn.Identity();
    }
}

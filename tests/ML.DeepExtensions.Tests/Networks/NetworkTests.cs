using System;
using System.Collections.Generic;
using System.Linq;
using ML.DeepExtensions.Networks;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks;

public class NetworkTests
{
    private static readonly Network SmallCnn = Network.Create()
        .Reshape(1, 8, 8).Conv2d(16, 3, padding: 1).BatchNorm().ReLU().MaxPool2d(2)
        .Conv2d(32, 3, padding: 1).ReLU().GlobalAveragePool().Dense(10);

    [Fact]
    public void OutputShape_InfersEveryLayer_WithoutInputSizes()
    {
        var shapes = SmallCnn.Describe(64).Select(d => string.Join("x", d.OutputShape)).ToArray();
        Assert.Equal(new[] { "1x8x8", "16x8x8", "16x8x8", "16x8x8", "16x4x4", "32x4x4", "32x4x4", "32", "10" }, shapes);
    }

    [Fact]
    public void Describe_CountsParametersLikePyTorch()
    {
        var rows = SmallCnn.Describe(64);
        Assert.Equal(16 * 1 * 3 * 3 + 16, rows[1].Parameters);  // conv1 weight + bias
        Assert.Equal(2 * 16, rows[2].Parameters);                // batch-norm scale + shift
        Assert.Equal(32 * 16 * 3 * 3 + 32, rows[5].Parameters);
        Assert.Equal(32 * 10 + 10, rows[^1].Parameters);
    }

    [Fact]
    public void Summary_ListsLayersShapesAndTotal()
    {
        var summary = SmallCnn.Summary(64);
        Assert.Contains("Conv2d(16, 3x3, stride 1, padding 1)", summary);
        Assert.Contains("(16, 4, 4)", summary);
        var total = SmallCnn.Describe(64).Sum(r => r.Parameters);
        Assert.Contains($"Total parameters: {total:N0}", summary);
    }

    [Fact]
    public void Conv2d_OnAVector_ThrowsNamingTheLayerAndShapes()
    {
        var network = Network.Create().Dense(8).Conv2d(4, 3);
        var ex = Assert.Throws<NetworkShapeException>(() => network.OutputShape(64));
        Assert.Equal(1, ex.LayerIndex);
        Assert.Contains("Conv2d", ex.Message);
        Assert.Contains("(channels, height, width)", ex.Message);
        Assert.Contains("received (8)", ex.Message);
    }

    [Fact]
    public void Reshape_WithWrongSize_Throws()
    {
        var ex = Assert.Throws<NetworkShapeException>(() => Network.Create().Reshape(1, 7, 7).OutputShape(64));
        Assert.Contains("49 values", ex.Message);
    }

    [Fact]
    public void Dense_WithZeroUnits_ThrowsWithParameterName()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Network.Create().Dense(0));
        Assert.Equal("units", ex.ParamName);
        Assert.Contains("Received: units=0", ex.Message);
    }

    [Fact]
    public void Json_RoundTrip_KeepsEveryLayer()
    {
        var network = Network.Create()
            .Reshape(4, 16).Conv1d(8, 3, padding: 1).LeakyReLU(0.2).AvgPool1d(2).Flatten().Dense(32, useBias: false)
            .LayerNorm().GELU().Dropout(0.25).SiLU().Tanh().Sigmoid().Softmax()
            .Add(new PoolingLayer(PoolingKind.Max, 1, 2, 1));
        var json = network.ToJson();
        var back = Network.FromJson(json);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(network.Layers.Select(l => l.ToString()), back.Layers.Select(l => l.ToString()));
    }

    [Fact]
    public void FromJson_Garbage_ThrowsFormatException()
        => Assert.Throws<FormatException>(() => Network.FromJson("{\"layers\":[{\"type\":\"Nope\"}]}"));

    [Fact]
    public void Recurrent_AndEmbedding_ProduceDocumentedShapes()
    {
        Assert.Equal(new[] { 24 }, Network.Create().Embedding(100, 16).Lstm(12, bidirectional: true).OutputShape(10));
        Assert.Equal(new[] { 10, 12 }, Network.Create().Embedding(100, 16).Gru(12, layers: 2, returnSequences: true).OutputShape(10));
        Assert.Equal(new[] { 5 }, Network.Create().Reshape(10, 3).Lstm(5).OutputShape(30));
    }

    [Fact]
    public void Build_RunsForwardAndBackward_ForEveryLayerKind()
    {
        var networks = new[]
        {
            SmallCnn,
            Network.Create().Embedding(50, 8).Lstm(6, layers: 2, bidirectional: true).Dense(3),
            Network.Create().Reshape(6, 5).Gru(4, returnSequences: true).Flatten().Dense(2),
            Network.Create().Reshape(2, 32).Conv1d(4, 5, stride: 2).MaxPool1d(2).BatchNorm().Flatten().Dense(3).Softmax(),
            Network.Mlp([16, 8], ActivationKind.Tanh, dropout: 0.1, batchNorm: true).Dense(1),
        };
        var inputs = new[] { 64, 10, 30, 64, 7 };
        foreach (var (network, size) in networks.Zip(inputs))
        {
            using var scope = torch.NewDisposeScope();
            using var generator = new Generator(1);
            using var module = network.Build([size], new BuildContext(generator));
            module.train();
            var x = size == 10 ? torch.randint(0, 50, [4, size]).to_type(ScalarType.Float32) : torch.rand(4, size);
            var y = module.forward(x);
            Assert.Equal(new long[] { 4 }.Concat(network.OutputShape(size).Select(d => (long)d)), y.shape);
            y.sum().backward();
            Assert.All(module.parameters(), p => Assert.NotNull(p.grad));
        }
    }

    [Fact]
    public void Registry_UnknownArchitecture_ThrowsListingRegisteredOnes()
    {
        var ex = Assert.Throws<KeyNotFoundException>(() => Network.Create().Architecture("NoSuchNet").OutputShape(4));
        Assert.Contains("NoSuchNet", ex.Message);
        Assert.Contains("Mlp", ex.Message);
    }

    [Fact]
    public void Registry_UserArchitecture_ExpandsWithParameters()
    {
        ArchitectureRegistry.Register("TestTwoTower", (p, shape) => Network.Create().Dense(p.GetInt("width", 4)).ReLU().Dense(p.GetInt("width", 4)));
        var network = Network.Create().Architecture("TestTwoTower", new Dictionary<string, string> { ["width"] = "6" }).Dense(2);
        Assert.Equal(new[] { 2 }, network.OutputShape(3));
        Assert.Equal(4, network.Describe(3).Count);
        Assert.Equal(3 * 6 + 6, network.Describe(3)[0].Parameters);
        Assert.Throws<ArgumentException>(() => ArchitectureRegistry.Register("testtwotower", (p, s) => Network.Create()));
    }

    [Fact]
    public void Mlp_BadParameter_ThrowsNamingIt()
    {
        var network = Network.Create().Architecture("Mlp", new Dictionary<string, string> { ["hidden"] = "12,abc" });
        var ex = Assert.Throws<ArgumentException>(() => network.OutputShape(4));
        Assert.Contains("hidden", ex.Message);
    }
}

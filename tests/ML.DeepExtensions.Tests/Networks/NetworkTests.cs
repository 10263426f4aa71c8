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

    /// <summary>A user parameter class with every supported kind of property.</summary>
    public sealed class TowerParameters
    {
        [ArchitectureParameter("Units of each Dense layer.")]
        public int Units { get; set; } = 4;

        [ArchitectureParameter("Dropout after the first layer.")]
        public double Dropout { get; set; } = 0.25;

        [ArchitectureParameter("Second Dense layer.")]
        public bool Twice { get; set; } = true;

        [ArchitectureParameter("Activation between the layers.")]
        public ActivationKind Activation { get; set; } = ActivationKind.Tanh;

        [ArchitectureParameter("Extra Dense layers after the tower.")]
        public int[] Extra { get; set; } = [];

        [ArchitectureParameter("A label, unused.")]
        public string Label { get; set; } = "tower";

        [ArchitectureParameter("Output units; unset: none.")]
        public int? Output { get; set; }

        [ArchitectureParameter("Unused long.")]
        public long Seed { get; set; } = 7;

        [ArchitectureParameter("Unused float.")]
        public float Scale { get; set; } = 1.5f;

        [ArchitectureParameter("Unused flag stored as 1/0.", WriteBoolAsDigit = true)]
        public bool Flag { get; set; }
    }

    private static Network Tower(TowerParameters p, int[] inputShape)
    {
        var network = Network.Create().Dense(p.Units).Add(new ActivationLayer(p.Activation)).Dropout(p.Dropout);
        if (p.Twice)
            network = network.Dense(p.Units);
        foreach (var units in p.Extra)
            network = network.Dense(units);
        return p.Output is { } output ? network.Dense(output) : network;
    }

    private static Network TypedTower(IReadOnlyDictionary<string, string>? parameters = null)
    {
        ArchitectureRegistry.Register<TowerParameters>("TestTypedTower", Tower);
        return Network.Create().Architecture("TestTypedTower", parameters);
    }

    [Fact]
    public void Registry_TypedArchitecture_BindsStoredStringsAndKeepsDefaultsForMissingOnes()
    {
        // Defaults: Dense 4, Tanh, Dropout, Dense 4.
        Assert.Equal(new[] { "Dense", "Activation", "Dropout", "Dense" }, TypedTower().Expand([3]).Select(d => d.Layer.GetType().Name.Replace("Layer", "")));
        var network = TypedTower(new Dictionary<string, string> { ["units"] = "6", ["twice"] = "0", ["extra"] = "5,2", ["OUTPUT"] = "1", ["activation"] = "relu" });
        var layers = network.Expand([3]);
        Assert.Equal(new[] { 6, 6, 6, 5, 2, 1 }, layers.Select(d => d.Output[0]));
        Assert.Equal(ActivationKind.ReLU, Assert.IsType<ActivationLayer>(layers[1].Layer).Kind);
        Assert.Equal(new[] { 1 }, network.OutputShape(3));
    }

    [Fact]
    public void Registry_TypedArchitecture_UnknownParameter_ThrowsListingTheValidOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => TypedTower(new Dictionary<string, string> { ["unit"] = "6", ["depth"] = "2" }).OutputShape(3));
        Assert.Equal("unit", ex.ParamName);
        Assert.Contains("Architecture 'TestTypedTower' has no parameter 'unit', 'depth'.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Valid parameters: units, dropout, twice, activation, extra, label, output, seed, scale, flag.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_TypedArchitecture_BadlyTypedValue_ThrowsTheArchitectureParameterMessage()
    {
        var ex = Assert.Throws<ArgumentException>(() => TypedTower(new Dictionary<string, string> { ["units"] = "6.5" }).OutputShape(3));
        Assert.Equal("units", ex.ParamName);
        Assert.StartsWith("Architecture parameter 'units' must be a Int32. Received: units='6.5'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("must be a Int32[]. Received: extra='5,x'",
            Assert.Throws<ArgumentException>(() => TypedTower(new Dictionary<string, string> { ["extra"] = "5,x" }).OutputShape(3)).Message, StringComparison.Ordinal);
        Assert.Contains("must be a Boolean. Received: twice='yes'",
            Assert.Throws<ArgumentException>(() => TypedTower(new Dictionary<string, string> { ["twice"] = "yes" }).OutputShape(3)).Message, StringComparison.Ordinal);
        Assert.Contains("Received: activation='42'", // a number is not a member name
            Assert.Throws<ArgumentException>(() => TypedTower(new Dictionary<string, string> { ["activation"] = "42" }).OutputShape(3)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_TypedParameters_WriteEveryNonNullValueInDeclaredOrder_AndRoundTrip()
    {
        var stored = ArchitectureParameters.From(new TowerParameters { Units = 8, Extra = [3, 2] }).Values;
        Assert.Equal(new[] { "units", "dropout", "twice", "activation", "extra", "label", "seed", "scale", "flag" }, stored.Keys); // output is null: not stored
        Assert.Equal(new[] { "8", "0.25", "true", "Tanh", "3,2", "tower", "7", "1.5", "0" }, stored.Values);
        var back = new ArchitectureParameters(stored).Bind<TowerParameters>();
        Assert.Equal(8, back.Units);
        Assert.Equal(new[] { 3, 2 }, back.Extra);
        Assert.Null(back.Output);
        ML.DeepExtensions.TestSupport.ArchitectureParameterRoundTrip.Check(typeof(TowerParameters));
        ML.DeepExtensions.TestSupport.ArchitectureParameterRoundTrip.Check(typeof(MlpParameters));
    }

    [Fact]
    public void Registry_Mlp_IsTyped_AndDescribesItsParametersWithDefaults()
    {
        var mlp = ArchitectureRegistry.ParametersOf("mlp")!;
        Assert.Equal(new[] { "hidden", "activation", "dropout", "batchNorm" }, mlp.Select(p => p.Name));
        Assert.Equal(new[] { "128,64", "ReLU", "0", "0" }, mlp.Select(p => p.DefaultValue));
        Assert.Equal(typeof(int[]), mlp[0].Type);
        Assert.Equal("Units of each hidden Dense layer, in order (default 128,64).", mlp[0].ToString());
        Assert.Equal("""{"layers":[{"type":"Architecture","name":"Mlp","parameters":{"hidden":"128,64","activation":"ReLU","dropout":"0","batchNorm":"0"}}]}""", Network.Mlp().ToJson());
        // Mlp zips store batchNorm as 1/0; true/false reads too.
        Assert.Equal(Network.Mlp([4], batchNorm: true).Describe(3).Count,
            Network.Create().Architecture("Mlp", new Dictionary<string, string> { ["hidden"] = "4", ["batchNorm"] = "true" }).Describe(3).Count);

        ArchitectureRegistry.Register("TestUntypedTower", (p, shape) => Network.Create().Dense(p.GetInt("width", 4)));
        Assert.Null(ArchitectureRegistry.ParametersOf("TestUntypedTower"));
        Assert.Contains("Mlp", Assert.Throws<KeyNotFoundException>(() => ArchitectureRegistry.ParametersOf("NoSuchNet")).Message);
    }

    public sealed class UndescribedParameters
    {
        [ArchitectureParameter("Described.")]
        public int Units { get; set; } = 4;

        public int Depth { get; set; } = 2;
    }

    public sealed class UnstorableParameters
    {
        [ArchitectureParameter("A list of doubles, which parameters cannot store.")]
        public double[] Rates { get; set; } = [0.5];
    }

    [Fact]
    public void Registry_TypedArchitecture_ParameterClassIsCheckedWhenRegistered()
    {
        var undescribed = Assert.Throws<InvalidOperationException>(() => ArchitectureRegistry.Register<UndescribedParameters>("TestUndescribed", (p, s) => Network.Create()));
        Assert.Contains("UndescribedParameters.Depth has no [ArchitectureParameter", undescribed.Message, StringComparison.Ordinal);
        var unstorable = Assert.Throws<InvalidOperationException>(() => ArchitectureRegistry.Register<UnstorableParameters>("TestUnstorable", (p, s) => Network.Create()));
        Assert.Contains("UnstorableParameters.Rates is a Double[]", unstorable.Message, StringComparison.Ordinal);
        Assert.False(ArchitectureRegistry.IsRegistered("TestUndescribed"));

        // Registering the same typed builder again is a no-op; another builder under the name is refused.
        ArchitectureRegistry.Register<TowerParameters>("TestTypedTower", Tower);
        ArchitectureRegistry.Register<TowerParameters>("TestTypedTower", Tower);
        Assert.Throws<ArgumentException>(() => ArchitectureRegistry.Register<TowerParameters>("testtypedtower", (p, s) => Network.Create()));
    }

    [Fact]
    public void Mlp_BadParameter_ThrowsNamingIt()
    {
        var network = Network.Create().Architecture("Mlp", new Dictionary<string, string> { ["hidden"] = "12,abc" });
        var ex = Assert.Throws<ArgumentException>(() => network.OutputShape(4));
        Assert.Contains("hidden", ex.Message);
    }
}

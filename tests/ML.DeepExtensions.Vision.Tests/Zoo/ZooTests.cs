using System;
using System.Collections.Generic;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Vision.Zoo;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Zoo;

/// <summary>Registry-driven tests: every architecture of the zoo, at a CPU-cheap size.</summary>
public class ZooTests
{
    /// <summary>A tiny variant and image size per architecture; a new architecture without an entry fails <see cref="EveryArchitecture_HasATinyVariantUnderTest"/>.</summary>
    internal static readonly Dictionary<string, (Dictionary<string, string> Parameters, int[] Image)> Tiny = new(StringComparer.OrdinalIgnoreCase)
    {
        ["LeNet5"] = (new() { ["width"] = "0.5" }, [1, 28, 28]),
        ["AlexNet"] = (new() { ["width"] = "0.125", ["hidden"] = "32" }, [3, 63, 63]),
        ["Vgg11"] = (new() { ["width"] = "0.125", ["hidden"] = "32", ["poolSize"] = "1", ["batchNorm"] = "true" }, [3, 32, 32]),
        ["Vgg16"] = (new() { ["width"] = "0.125", ["hidden"] = "32", ["poolSize"] = "2" }, [3, 32, 32]),
        ["ResNet18"] = (new() { ["width"] = "0.125", ["smallInput"] = "true" }, [3, 28, 28]),
        ["ResNet34"] = (new() { ["width"] = "0.0625" }, [3, 32, 32]),
        ["ResNet50"] = (new() { ["width"] = "0.125", ["smallInput"] = "1" }, [3, 16, 16]),
        ["EfficientNetB0"] = (new() { ["width"] = "0.25", ["depth"] = "0.25" }, [3, 16, 16]),
        ["MobileNetV2"] = (new() { ["width"] = "0.25", ["depth"] = "0.5", ["channels"] = "1" }, [1, 16, 16]),
    };

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var architecture in VisionArchitectures.All)
            data.Add(architecture.Name);
        return data;
    }

    private static Network TinyNetwork(string name) => Network.Create().Architecture(name, Tiny[name].Parameters);

    [Fact]
    public void EveryArchitecture_HasATinyVariantUnderTest()
    {
        Assert.Equal(9, VisionArchitectures.All.Count);
        Assert.All(VisionArchitectures.All, a => Assert.True(Tiny.ContainsKey(a.Name), $"{a.Name} has no tiny variant in the tests"));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Architecture_IsRegisteredWithItsAssemblyAndContract(string name)
    {
        Assert.True(ArchitectureRegistry.IsRegistered(name));
        Assert.Equal("ML.DeepExtensions.Vision", new ArchitectureLayer(name).Assembly);
        var contract = VisionArchitectures.Get(name.ToUpperInvariant());
        Assert.Equal(name, contract.Name);
        Assert.Equal(contract.Channels, contract.Mean.Count);
        Assert.Equal(contract.Channels, contract.Std.Count);
        Assert.All(contract.Std, s => Assert.True(s > 0));
        Assert.InRange(contract.MinimumSize, 1, contract.Height);
        Assert.Contains("width", contract.Parameters.Keys);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void TinyVariant_ForwardAndBackward_ShapesMatchInferenceLayerByLayer(string name)
    {
        var network = TinyNetwork(name);
        var image = Tiny[name].Image;
        var layers = network.Expand(image);
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(7);
        torch.manual_seed(7);
        using var module = network.Build(image, new BuildContext(generator));
        module.train();
        var x = torch.randn(new long[] { 2 }.Concat(image.Select(d => (long)d)).ToArray());
        var children = module.children().Cast<nn.Module<Tensor, Tensor>>().ToArray();
        Assert.Equal(layers.Count, children.Length);
        var h = x;
        for (var i = 0; i < children.Length; i++)
        {
            h = children[i].forward(h);
            Assert.True(h.shape.Skip(1).SequenceEqual(layers[i].Output.Select(d => (long)d)),
                $"{name} layer {i} ({layers[i].Layer}): inferred {string.Join("x", layers[i].Output)}, real {string.Join("x", h.shape.Skip(1))}");
        }
        Assert.Equal(network.OutputShape(image).Select(d => (long)d), h.shape.Skip(1));
        h.pow(2).mean().backward();
        var parameters = module.parameters().ToArray();
        Assert.NotEmpty(parameters);
        Assert.All(parameters, p => Assert.NotNull(p.grad));
        Assert.Contains(parameters, p => p.grad!.abs().sum().item<float>() > 0);

        module.eval();
        using var noGrad = torch.no_grad();
        var first = module.forward(x);
        var second = module.forward(x);
        Assert.True(first.isfinite().all().item<bool>());
        Assert.True(first.equal(second).all().item<bool>(), $"{name} is not deterministic when scoring");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void TinyVariant_JsonRoundTrip_KeepsNameParametersAndAssembly(string name)
    {
        var network = TinyNetwork(name).Dense(3);
        var json = network.ToJson();
        Assert.Contains("\"assembly\":\"ML.DeepExtensions.Vision\"", json.Replace(" ", ""));
        var back = Network.FromJson(json);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(network.OutputShape(Tiny[name].Image), back.OutputShape(Tiny[name].Image));
        Assert.Equal(network.Describe(Tiny[name].Image).Select(d => d.Layer.ToString()), back.Describe(Tiny[name].Image).Select(d => d.Layer.ToString()));
    }

    [Fact]
    public void LeNet5_ParameterCount_EqualsTheClassicNetworkWithoutItsOutputLayer()
    {
        // LeNet-5 on 32×32: conv 156 + conv 2,416 + 48,120 + 10,164, plus the 84→10 output layer (850) = 61,706.
        // (The torchvision models' published counts are checked in StateDictOrderTests.)
        Assert.Equal(61_706 - 850, VisionArchitectures.LeNet5().Describe(1, 32, 32).Sum(d => d.Parameters));
        Assert.Equal(61_706 - 850 - 16 * 5 * 5 * 120 + 16 * 4 * 4 * 120, VisionArchitectures.LeNet5().Describe(1, 28, 28).Sum(d => d.Parameters));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void MinimumSize_IsAcceptedAndOnePixelLessIsRejectedClearly(string name)
    {
        var contract = VisionArchitectures.Get(name);
        var network = contract.CreateNetwork();
        Assert.NotEmpty(network.OutputShape(contract.Channels, contract.MinimumSize, contract.MinimumSize));
        if (contract.MinimumSize == 1)
            return;
        var ex = Assert.Throws<NetworkShapeException>(() => network.OutputShape(contract.Channels, contract.MinimumSize - 1, contract.MinimumSize));
        Assert.Contains(name, ex.Message);
        Assert.Contains($"at least {contract.MinimumSize} pixels", ex.Message);
        Assert.Contains($"received ({contract.Channels}, {contract.MinimumSize - 1}, {contract.MinimumSize})", ex.Message);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void WrongChannelCount_ThrowsNamingExpectedChannelsAndTheFix(string name)
    {
        var contract = VisionArchitectures.Get(name);
        var wrong = contract.Channels == 3 ? 1 : 3;
        var ex = Assert.Throws<NetworkShapeException>(() => contract.CreateNetwork().OutputShape(wrong, contract.Height, contract.Width));
        Assert.Contains($"with {contract.Channels} channel", ex.Message);
        Assert.Contains($"channels={wrong}", ex.Message);
    }

    [Fact]
    public void FlatPixelVector_ThrowsSuggestingReshape()
    {
        var ex = Assert.Throws<NetworkShapeException>(() => VisionArchitectures.LeNet5().OutputShape(784));
        Assert.Contains("Reshape(channels, height, width)", ex.Message);
        Assert.Equal(new[] { 84 }, Network.Create().Reshape(1, 28, 28).Add(VisionArchitectures.LeNet5().Layers[0]).OutputShape(784));
    }

    [Fact]
    public void Get_UnknownName_ListsTheZoo()
    {
        var ex = Assert.Throws<KeyNotFoundException>(() => VisionArchitectures.Get("ResNet101"));
        Assert.Contains("ResNet18", ex.Message);
        Assert.Contains("MobileNetV2", ex.Message);
    }

    [Fact]
    public void Helpers_WriteTheirParametersAndValidateThemWhereGiven()
    {
        var layer = Assert.IsType<ArchitectureLayer>(Assert.Single(VisionArchitectures.ResNet18(width: 0.25, smallInput: true).Layers));
        Assert.Equal("ResNet18", layer.Name);
        Assert.Equal("0.25", layer.Parameters["width"]);
        Assert.Equal("true", layer.Parameters["smallInput"]);
        Assert.Equal(new[] { 128 }, VisionArchitectures.ResNet18(width: 0.25, smallInput: true).OutputShape(3, 32, 32));
        Assert.Equal(new[] { 256 }, VisionArchitectures.ResNet50(width: 0.125).OutputShape(3, 64, 64));
        Assert.Equal(new[] { 1280 }, VisionArchitectures.EfficientNetB0().OutputShape(3, 224, 224));
        Assert.Equal(new[] { 1280 }, VisionArchitectures.MobileNetV2(width: 0.5).OutputShape(3, 96, 96));
        Assert.Equal(new[] { 64 }, VisionArchitectures.Vgg16(width: 0.25, hidden: 64, poolSize: 1).OutputShape(3, 32, 32));
        Assert.ThrowsAny<ArgumentException>(() => VisionArchitectures.ResNet18(width: 0));
        Assert.ThrowsAny<ArgumentException>(() => VisionArchitectures.AlexNet(hidden: 0));
        Assert.ThrowsAny<ArgumentException>(() => VisionArchitectures.MobileNetV2(channels: 0));
    }

    [Fact]
    public void SmallInputStem_KeepsResolutionWhereTheImageNetStemDividesItByFour()
    {
        var small = VisionArchitectures.ResNet18(smallInput: true).Describe(3, 32, 32);
        var standard = VisionArchitectures.ResNet18().Describe(3, 32, 32);
        Assert.Equal(new[] { 64, 32, 32 }, small.First(d => d.Layer is ResidualLayer).OutputShape);
        Assert.Equal(new[] { 64, 8, 8 }, standard.First(d => d.Layer is ResidualLayer).OutputShape);
        // Only the stem convolution differs: 3×3 instead of 7×7.
        Assert.Equal(64 * 3 * (7 * 7 - 3 * 3), standard.Sum(d => d.Parameters) - small.Sum(d => d.Parameters));
    }

    [Fact]
    public void ResNetBlocks_AddBlocksWhereGiven_PersistInJson_AndAreCheckedWhereGiven()
    {
        var standard = VisionArchitectures.ResNet18();
        var imageNet = VisionArchitectures.ResNet18(blocks: [2, 2, 2, 3]);
        Assert.False(((ArchitectureLayer)standard.Layers[0]).Parameters.ContainsKey("blocks")); // default networks persist as before
        // One more 512-plane basic block: two 3×3 convolutions and two batch norms.
        Assert.Equal(2 * (512 * 512 * 9 + 2 * 512), imageNet.Describe(3, 64, 64).Sum(d => d.Parameters) - standard.Describe(3, 64, 64).Sum(d => d.Parameters));
        var loaded = Network.FromJson(imageNet.ToJson());
        Assert.Equal("2,2,2,3", ((ArchitectureLayer)loaded.Layers[0]).Parameters["blocks"]);
        Assert.Equal(imageNet.Describe(3, 64, 64).Sum(d => d.Parameters), loaded.Describe(3, 64, 64).Sum(d => d.Parameters));
        Assert.Equal(VisionArchitectures.ResNet34().Describe(3, 64, 64).Sum(d => d.Parameters),
            VisionArchitectures.ResNet18(blocks: [3, 4, 6, 3]).Describe(3, 64, 64).Sum(d => d.Parameters));

        var ex = Assert.Throws<ArgumentException>(() => VisionArchitectures.ResNet50(blocks: [3, 4, 0, 3]));
        Assert.Equal("blocks", ex.ParamName);
        Assert.Contains("Received: blocks=3,4,0,3", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => VisionArchitectures.ResNet18(blocks: [2, 2, 2]));
    }
}

using System;
using System.IO;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Pretrained;
using ML.DeepExtensions.Scoring;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Pretrained;

public sealed class PretrainedWeightsTests : IDisposable
{
    private static readonly int[] InputShape = [3, 8, 8];

    /// <summary>Conv → BatchNorm (with buffers) → pool → conv → global pool, then a Dense head.</summary>
    private static Network Body => Network.Create()
        .Conv2d(8, 3, padding: 1).BatchNorm().ReLU().MaxPool2d(2)
        .Conv2d(16, 3, padding: 1).BatchNorm().ReLU().GlobalAveragePool();

    private readonly string _dir = Directory.CreateTempSubdirectory("pretrained-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>A network of <see cref="Body"/> + Dense(classes) whose batch-norm statistics are not the defaults.</summary>
    private static NetworkModel Trained(int classes, int seed)
    {
        var model = NetworkModel.Build(Body.Dense(classes), InputShape, seed, CPU);
        using var scope = NewDisposeScope();
        model.Module.train();
        using (no_grad())
            model.Module.forward(randn([16, .. InputShape], generator: new Generator((ulong)seed)) * 2 + 1);
        model.Module.eval();
        return model;
    }

    private static Tensor Batch() => randn([4, .. InputShape], generator: new Generator(99));

    private static float MaxAbsDiff(nn.Module<Tensor, Tensor> a, nn.Module<Tensor, Tensor> b)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = Batch();
        return (a.forward(x) - b.forward(x)).abs().max().item<float>();
    }

    [Fact]
    public void FromTorchSharp_SameNetwork_ReproducesOutputsExactly()
    {
        using var source = Trained(5, seed: 1);
        source.Module.save(PathOf("weights.dat"));
        using var target = NetworkModel.Build(Body.Dense(5), InputShape, seed: 2, CPU);
        Assert.True(MaxAbsDiff(source.Module, target.Module) > 1e-3f, "differently seeded networks should differ before loading");

        var result = PretrainedWeights.FromTorchSharp(PathOf("weights.dat")).Apply(target.Module, headTensors: 2);

        Assert.Equal(0f, MaxAbsDiff(source.Module, target.Module));
        Assert.True(result.HeadLoaded);
        Assert.True(result.MatchedByName);
        Assert.Equal(12, result.BackboneTensors); // 2 conv × (w, b) + 2 bn × (w, b, mean, var)
    }

    [Fact]
    public void FromSafetensors_WrittenByPyBridge_ReproducesOutputsExactly()
    {
        using var source = Trained(5, seed: 3);
        source.Module.save_safetensors(PathOf("weights.safetensors"));
        using var target = NetworkModel.Build(Body.Dense(5), InputShape, seed: 4, CPU);

        PretrainedWeights.FromFile(PathOf("weights.safetensors")).Apply(target.Module, headTensors: 2);

        Assert.Equal(0f, MaxAbsDiff(source.Module, target.Module));
    }

    [Fact]
    public void FromPyTorch_DifferentNames_MatchesByOrderAndReproducesOutputs()
    {
        // A TorchSharp module shaped like ours but named like a torchvision model (features.N / classifier),
        // saved in PyTorch's format: names cannot match, so order and shape carry the load.
        using var source = Trained(5, seed: 5);
        var sd = source.Module.state_dict();
        var layers = ((TorchSharp.Modules.Sequential)(object)source.Module).named_children().ToArray();
        using var renamed = nn.Sequential(
            ("features", nn.Sequential(layers.Take(layers.Length - 1).Select(l => (l.name, (nn.Module<Tensor, Tensor>)l.module)).ToArray())),
            ("classifier", (nn.Module<Tensor, Tensor>)layers[^1].module));
        Assert.DoesNotContain(renamed.state_dict().Keys, k => sd.ContainsKey(k));
        renamed.save_py(PathOf("weights.pt"));
        using var target = NetworkModel.Build(Body.Dense(5), InputShape, seed: 6, CPU);

        var weights = PretrainedWeights.FromFile(PathOf("weights.pt"));
        var result = weights.Apply(target.Module, headTensors: 2);

        Assert.Equal(PretrainedWeightsFormat.PyTorch, weights.Format);
        Assert.False(result.MatchedByName);
        Assert.True(result.HeadLoaded);
        Assert.Equal(0f, MaxAbsDiff(source.Module, target.Module));
        Assert.StartsWith("features.0.", weights.Describe()[0].Name, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_NewClassCount_LoadsBackboneAndKeepsFreshHead()
    {
        using var source = Trained(10, seed: 7);
        source.Module.save(PathOf("weights.dat"));
        using var target = NetworkModel.Build(Body.Dense(3), InputShape, seed: 8, CPU);
        using var freshHead = NetworkModel.Build(Body.Dense(3), InputShape, seed: 8, CPU);

        var result = PretrainedWeights.FromTorchSharp(PathOf("weights.dat")).Apply(target.Module, headTensors: 2);

        Assert.False(result.HeadLoaded);
        Assert.Equal(12, result.BackboneTensors);
        var targetState = WeightTransfer.OrderedState(target.Module);
        var sourceState = WeightTransfer.OrderedState(source.Module);
        var freshState = WeightTransfer.OrderedState(freshHead.Module);
        for (var i = 0; i < 12; i++)
            Assert.True(sourceState[i].Tensor.allclose(targetState[i].Tensor, rtol: 0, atol: 0), $"backbone tensor {targetState[i].Name} not loaded");
        Assert.True(freshState[^1].Tensor.allclose(targetState[^1].Tensor, rtol: 0, atol: 0));
        Assert.True(freshState[^2].Tensor.allclose(targetState[^2].Tensor, rtol: 0, atol: 0));
    }

    [Fact]
    public void Apply_FileWithoutHead_LoadsBackbone()
    {
        using var body = NetworkModel.Build(Body, InputShape, seed: 9, CPU);
        body.Module.save(PathOf("body.dat"));
        using var target = NetworkModel.Build(Body.Dense(4), InputShape, seed: 10, CPU);

        var result = PretrainedWeights.FromTorchSharp(PathOf("body.dat")).Apply(target.Module, headTensors: 2);

        Assert.Equal(12, result.BackboneTensors);
        Assert.False(result.HeadLoaded);
    }

    [Fact]
    public void BackboneParameters_AreEverythingButTheHead_AndCanBeFrozen()
    {
        using var model = NetworkModel.Build(Body.Dense(4), InputShape, seed: 11, CPU);
        var all = model.Module.parameters().ToArray();
        var backbone = WeightTransfer.BackboneParameters(model.Module, headTensors: 2);
        Assert.Equal(all.Length - 2, backbone.Count);   // the 8 trainable backbone tensors; BN buffers are not parameters

        Assert.Equal(backbone.Count, WeightTransfer.SetBackboneTrainable(model.Module, 2, trainable: false));
        Assert.All(backbone, p => Assert.False(p.requires_grad));
        Assert.Equal(2, model.Module.parameters().Count(p => p.requires_grad));
        WeightTransfer.SetBackboneTrainable(model.Module, 2, trainable: true);
        Assert.All(model.Module.parameters(), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void FromFile_MissingFile_ThrowsNamingTheFile()
    {
        var path = PathOf("nowhere.pt");
        var ex = Assert.Throws<FileNotFoundException>(() => PretrainedWeights.FromFile(path));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("never downloaded", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("garbage.pt")]
    [InlineData("garbage.safetensors")]
    [InlineData("garbage.dat")]
    public void Apply_CorruptFile_ThrowsNamingTheFile(string name)
    {
        var path = PathOf(name);
        var bytes = new byte[4096];
        new Random(5).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        using var target = NetworkModel.Build(Body.Dense(5), InputShape, seed: 12, CPU);

        var ex = Assert.Throws<PretrainedWeightsException>(() => PretrainedWeights.FromFile(path).Apply(target.Module, 2));

        Assert.Equal(path, ex.FilePath);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("weights.dat")]
    [InlineData("weights.safetensors")]
    [InlineData("weights.pt")]
    public void Apply_TruncatedFile_ThrowsNamingTheFile(string name)
    {
        using var source = Trained(5, seed: 13);
        var full = PathOf("full-" + name);
        if (name.EndsWith(".dat", StringComparison.Ordinal))
            source.Module.save(full);
        else if (name.EndsWith(".pt", StringComparison.Ordinal))
            source.Module.save_py(full);
        else
            source.Module.save_safetensors(full);
        var bytes = File.ReadAllBytes(full);
        var path = PathOf(name);
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
        using var target = NetworkModel.Build(Body.Dense(5), InputShape, seed: 14, CPU);

        var ex = Assert.Throws<PretrainedWeightsException>(() => PretrainedWeights.FromFile(path).Apply(target.Module, 2));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_DifferentArchitecture_ThrowsWithTensorCounts()
    {
        using var source = NetworkModel.Build(Network.Create().Conv2d(8, 3).ReLU().GlobalAveragePool().Dense(5), InputShape, seed: 15, CPU);
        source.Module.save(PathOf("other.dat"));
        using var target = NetworkModel.Build(Body.Dense(5), InputShape, seed: 16, CPU);

        var ex = Assert.Throws<PretrainedWeightsException>(() => PretrainedWeights.FromTorchSharp(PathOf("other.dat")).Apply(target.Module, 2));

        Assert.Contains("holds 4 tensors", ex.Message, StringComparison.Ordinal);
        Assert.Contains("the network has 14", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_ShapeMismatch_NamesBothTensorsAndShapes()
    {
        // Same layer count, wider first convolution: tensor #1 differs.
        var wider = Network.Create().Conv2d(12, 3, padding: 1).BatchNorm().ReLU().MaxPool2d(2)
            .Conv2d(16, 3, padding: 1).BatchNorm().ReLU().GlobalAveragePool().Dense(5);
        using var source = NetworkModel.Build(wider, InputShape, seed: 17, CPU);
        source.Module.save_py(PathOf("wider.pt"));
        using var target = NetworkModel.Build(Body.Dense(5), InputShape, seed: 18, CPU);
        var before = WeightTransfer.OrderedState(target.Module).Select(s => s.Tensor.clone()).ToArray();

        var ex = Assert.Throws<PretrainedWeightsException>(() => PretrainedWeights.FromPyTorch(PathOf("wider.pt")).Apply(target.Module, 2));

        Assert.Contains("'0.weight' in the file has shape [12, 3, 3, 3]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("tensor '0.weight' has shape [8, 3, 3, 3]", ex.Message, StringComparison.Ordinal);
        // Nothing half-loaded: shapes are all checked before the first copy.
        var after = WeightTransfer.OrderedState(target.Module);
        for (var i = 0; i < before.Length; i++)
            Assert.True(before[i].allclose(after[i].Tensor, rtol: 0, atol: 0));
    }

    [Fact]
    public void PickledStringPosition_FindsExactKeysOnly()
    {
        byte[] pickle = [.. "X"u8, 9, 0, 0, 0, .. "10.weight"u8, .. "X"u8, 8, 0, 0, 0, .. "0.weight"u8];
        Assert.Equal(0, WeightFileReaders.PickledStringPosition(pickle, "10.weight"));
        Assert.Equal(14, WeightFileReaders.PickledStringPosition(pickle, "0.weight"));
        Assert.Equal(-1, WeightFileReaders.PickledStringPosition(pickle, "weight"));
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Vision.Zoo;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Zoo;

/// <summary>
/// Weights saved by torchvision are matched to ours by position, so the state dicts must list the same tensors with
/// the same shapes in the same order. The expected lists are written here from torchvision 0.14's ResNet definition
/// (its names: conv1, bn1, layerN.B.conv1 …, downsample.0/1), independently of the DSL builders.
/// </summary>
public class StateDictOrderTests
{
    private readonly ITestOutputHelper _output;

    public StateDictOrderTests(ITestOutputHelper output) => _output = output;

    private static IEnumerable<(string Key, long[] Shape)> BatchNorm(string name, long channels) =>
    [
        ($"{name}.weight", [channels]), ($"{name}.bias", [channels]),
        ($"{name}.running_mean", [channels]), ($"{name}.running_var", [channels]), ($"{name}.num_batches_tracked", []),
    ];

    /// <summary>torchvision.models.resnet.ResNet's state dict without fc.weight/fc.bias.</summary>
    private static List<(string Key, long[] Shape)> TorchvisionResNet(int[] blocks, bool bottleneck)
    {
        var expansion = bottleneck ? 4 : 1;
        var keys = new List<(string, long[])> { ("conv1.weight", [64, 3, 7, 7]) };
        keys.AddRange(BatchNorm("bn1", 64));
        long inplanes = 64;
        for (var layer = 0; layer < 4; layer++)
        {
            long planes = 64 << layer;
            for (var block = 0; block < blocks[layer]; block++)
            {
                var prefix = $"layer{layer + 1}.{block}.";
                var stride = layer > 0 && block == 0 ? 2 : 1;
                if (bottleneck)
                {
                    keys.Add((prefix + "conv1.weight", [planes, inplanes, 1, 1]));
                    keys.AddRange(BatchNorm(prefix + "bn1", planes));
                    keys.Add((prefix + "conv2.weight", [planes, planes, 3, 3]));
                    keys.AddRange(BatchNorm(prefix + "bn2", planes));
                    keys.Add((prefix + "conv3.weight", [planes * 4, planes, 1, 1]));
                    keys.AddRange(BatchNorm(prefix + "bn3", planes * 4));
                }
                else
                {
                    keys.Add((prefix + "conv1.weight", [planes, inplanes, 3, 3]));
                    keys.AddRange(BatchNorm(prefix + "bn1", planes));
                    keys.Add((prefix + "conv2.weight", [planes, planes, 3, 3]));
                    keys.AddRange(BatchNorm(prefix + "bn2", planes));
                }
                if (stride != 1 || inplanes != planes * expansion)
                {
                    keys.Add((prefix + "downsample.0.weight", [planes * expansion, inplanes, 1, 1]));
                    keys.AddRange(BatchNorm(prefix + "downsample.1", planes * expansion));
                }
                inplanes = planes * expansion;
            }
        }
        return keys;
    }

    public static TheoryData<string, int[], bool> ResNets() => new()
    {
        { "ResNet18", [2, 2, 2, 2], false },
        { "ResNet34", [3, 4, 6, 3], false },
        { "ResNet50", [3, 4, 6, 3], true },
    };

    [Theory]
    [Trait("Category", "Reference")]
    [MemberData(nameof(ResNets))]
    public void ResNet_StateDict_HasTorchvisionsTensorsInTorchvisionsOrder(string name, int[] blocks, bool bottleneck)
    {
        var expected = TorchvisionResNet(blocks, bottleneck);
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(0);
        using var module = VisionArchitectures.Get(name).CreateNetwork().Build([3, 224, 224], new BuildContext(generator));
        var ours = ModuleState.InPyTorchOrder(module).Select(e => (e.Key, e.Tensor.shape)).ToList();

        for (var i = 0; i < 8; i++)
            _output.WriteLine($"{expected[i].Key,-36} {string.Join("x", expected[i].Shape),-12} ↔ {ours[i].Key,-28} {string.Join("x", ours[i].shape)}");
        Assert.Equal(expected.Count, ours.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Shape.SequenceEqual(ours[i].shape), $"entry {i}: torchvision {expected[i].Key} {string.Join("x", expected[i].Shape)}, ours {ours[i].Key} {string.Join("x", ours[i].shape)}");
            Assert.Equal(expected[i].Key.Split('.')[^1], ours[i].Key.Split('.')[^1]);
        }

        // TorchSharp's own state_dict lists all parameters, then all buffers: each in torchvision's relative order.
        var parameters = module.named_parameters().Select(p => p.parameter.shape).ToList();
        var buffers = module.named_buffers().Select(b => b.buffer.shape).ToList();
        var isBuffer = (string key) => key.Contains("running_") || key.EndsWith("num_batches_tracked");
        Assert.Equal(expected.Where(e => !isBuffer(e.Key)).Select(e => string.Join("x", e.Shape)), parameters.Select(s => string.Join("x", s)));
        Assert.Equal(expected.Where(e => isBuffer(e.Key)).Select(e => string.Join("x", e.Shape)), buffers.Select(s => string.Join("x", s)));
        Assert.Equal(ours.Select(o => o.Key).Order(), module.state_dict().Keys.Order());
    }

    /// <summary>Sections of torchvision-state-dicts.txt, written by torchvision_state_dicts.py with Debian 12's
    /// python3-torchvision 0.14.1: "[Name parameters]" then "key shape" lines in state-dict order, final Linear excluded.</summary>
    private static Dictionary<string, List<(string Key, string Shape)>> TorchvisionStateDicts()
    {
        var path = Path.Combine(RepoDirectory(), "tests", "ML.DeepExtensions.Vision.Tests", "Zoo", "torchvision-state-dicts.txt");
        var sections = new Dictionary<string, List<(string, string)>>();
        List<(string, string)>? current = null;
        foreach (var line in File.ReadLines(path).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            if (line.StartsWith('['))
                sections[line[1..^1]] = current = [];
            else
                current!.Add((line.Split(' ')[0], line.Split(' ').ElementAtOrDefault(1) ?? ""));
        }
        return sections;
    }

    private static string RepoDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Directory.Build.props")))
                return dir.FullName;
        throw new DirectoryNotFoundException($"No repository root above {AppContext.BaseDirectory}.");
    }

    public static TheoryData<string> TorchvisionModels()
    {
        var data = new TheoryData<string>();
        foreach (var name in TorchvisionStateDicts().Keys)
            data.Add(name);
        return data;
    }

    /// <summary>torchvision 0.14's published parameter counts (models' docs, "num_params") and its final Linear layer's share.</summary>
    private static readonly Dictionary<string, (long Total, long FinalLinear)> PublishedCounts = new()
    {
        ["AlexNet"] = (61_100_840, 4096 * 1000 + 1000),
        ["Vgg11"] = (132_863_336, 4096 * 1000 + 1000),
        ["Vgg11 batchNorm=true"] = (132_868_840, 4096 * 1000 + 1000),
        ["Vgg16"] = (138_357_544, 4096 * 1000 + 1000),
        ["Vgg16 batchNorm=true"] = (138_365_992, 4096 * 1000 + 1000),
        ["ResNet18"] = (11_689_512, 512 * 1000 + 1000),
        ["ResNet34"] = (21_797_672, 512 * 1000 + 1000),
        ["ResNet50"] = (25_557_032, 2048 * 1000 + 1000),
        ["EfficientNetB0"] = (5_288_548, 1280 * 1000 + 1000),
        ["MobileNetV2"] = (3_504_872, 1280 * 1000 + 1000),
    };

    [Theory]
    [Trait("Category", "Reference")]
    [MemberData(nameof(TorchvisionModels))]
    public void DefaultStructure_StateDict_MatchesTorchvisionEntryByEntry(string section)
    {
        var expected = TorchvisionStateDicts()[section];
        var parts = section.Split(' ');
        var parameters = parts.Skip(1).Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        var contract = VisionArchitectures.Get(parts[0]);
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(0);
        using var module = contract.CreateNetwork(parameters).Build([contract.Channels, contract.Height, contract.Width], new BuildContext(generator));
        var ours = ModuleState.InPyTorchOrder(module).Select(e => (e.Key, Shape: string.Join("x", e.Tensor.shape))).ToList();
        for (var i = 0; i < Math.Min(expected.Count, ours.Count); i++)
        {
            Assert.True(expected[i].Shape == ours[i].Shape && expected[i].Key.Split('.')[^1] == ours[i].Key.Split('.')[^1],
                $"{section} entry {i}: torchvision {expected[i].Key} {expected[i].Shape}, ours {ours[i].Key} {ours[i].Shape}");
        }
        Assert.Equal(expected.Count, ours.Count);
        var (total, finalLinear) = PublishedCounts[section];
        Assert.Equal(total - finalLinear, module.parameters().Sum(p => p.numel()));
    }
}

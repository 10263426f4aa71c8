using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Pretrained;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Detection;
using ML.DeepExtensions.Vision.Tests.Pretrained;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Detection;

/// <summary>
/// The detectors' <see cref="DetectorBackbone.ResNet18"/> backbone with weights from a local torchvision state dict
/// (eng/reference/torchvision_resnet18.py under Debian's PyTorch 1.13 / torchvision 0.14: random weights and batch-norm
/// statistics, fixed seed), as the pretrained-weights parity tests use.
/// </summary>
public sealed class DetectorPretrainedBackboneTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] TwoClasses = ["Trouser", "Bag"];
    private readonly string _dir = Directory.CreateTempSubdirectory("detector-pretrained-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string StateDict(string model)
    {
        var directory = Path.Combine(_dir, model);
        ReferenceTools.Generate(model, directory);
        return Path.Combine(directory, "state_dict.pt");
    }

    private static IDataView Training(MLContext ml, out ITransformer keys)
    {
        var data = DetectionTestData.Load(ml, DetectionTestData.Rows(DetectionTestData.Canvases.Generate("train", 8, 3, TwoClasses)));
        keys = DetectionTestData.Keys(ml, data);
        return keys.Transform(data);
    }

    private static ObjectDetectorOptions Options(PretrainedWeights weights, double width = 1, TrainingCallback? callback = null, string architecture = DetectionArchitectures.AnchorFreeDetectorName) => new()
    {
        Epochs = 1,
        BatchSize = 4,
        // A frozen backbone neither learns nor updates its batch-norm statistics: after Fit it still holds the file's values.
        FreezeBackboneEpochs = 1,
        ScoreThreshold = 0.01,
        Architecture = architecture switch
        {
            DetectionArchitectures.FasterRcnnName => new FasterRcnnParameters { Width = width, Backbone = DetectorBackbone.ResNet18, Proposals = 16, HeadUnits = 32 },
            DetectionArchitectures.SsdName => new SsdParameters { Width = width, Backbone = DetectorBackbone.ResNet18 },
            _ => new AnchorFreeDetectorParameters { Width = width, Backbone = DetectorBackbone.ResNet18 },
        },
        PretrainedWeights = weights,
        Callback = callback,
    };

    /// <summary>The stride-8 part of torchvision's resnet18 (conv1, bn1, layer1, layer2) as loaded by name into
    /// <see cref="ReferenceResNet18"/> (torchvision's module names), in state-dict order.</summary>
    private static (string Name, float[] Values)[] ReferenceBackbone(string stateDict)
    {
        using var scope = NewDisposeScope();
        using var reference = new ReferenceResNet18();
        var loaded = PretrainedWeights.FromPyTorch(stateDict).Apply(reference, headTensors: 2);
        Assert.True(loaded.MatchedByName);
        string[] part = ["conv1.", "bn1.", "layer1.", "layer2."];
        return WeightTransfer.OrderedState(reference)
            .Where(s => part.Any(p => s.Name.StartsWith(p, StringComparison.Ordinal)))
            .Select(s => (s.Name, s.Tensor.contiguous().data<float>().ToArray()))
            .ToArray();
    }

    private static float[][] DetectorTensors(ObjectDetectorTransformer model, int count)
        => WeightTransfer.OrderedState(model.Model.Module).Take(count).Select(s => s.Tensor.contiguous().data<float>().ToArray()).ToArray();

    [Theory]
    [Trait("Category", "Reference")]
    [InlineData(DetectionArchitectures.AnchorFreeDetectorName, 24)]
    [InlineData(DetectionArchitectures.FasterRcnnName, 14)]
    [InlineData(DetectionArchitectures.SsdName, 16)]
    public void ResNet18Backbone_TorchvisionStateDict_LandsInTheBackbone_AndSurvivesSaveAndLoad(string architecture, int headTensors)
    {
        var stateDict = StateDict("resnet18");
        var expected = ReferenceBackbone(stateDict);
        Assert.Equal(50, expected.Length);   // conv1 + bn1 (5) + layer1 (2 × 10) + layer2 (10 + 5 downsample + 10)
        Assert.Equal("layer2.1.bn2.running_var", expected[^1].Name);
        var ml = new MLContext(seed: 1);
        var training = Training(ml, out _);

        using var model = ml.MulticlassClassification.Trainers.ObjectDetector(Options(PretrainedWeights.FromPyTorch(stateDict), architecture: architecture)).Fit(training);

        var state = WeightTransfer.OrderedState(model.Model.Module);
        Assert.Equal(50 + headTensors, state.Count);   // the backbone, then the head's tensors
        var actual = DetectorTensors(model, expected.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(expected[i].Values.AsSpan().SequenceEqual(actual[i]), $"tensor #{i + 1} ({expected[i].Name}) differs from the file's");

        // Save → load: the zip rebuilds the ResNet-18 backbone and carries the weights; scores are identical.
        var zip = Path.Combine(_dir, "detector.zip");
        ml.Model.Save(model, training.Schema, zip);
        var fresh = new MLContext(seed: 2);
        var loaded = Assert.IsType<ObjectDetectorTransformer>(fresh.Model.Load(zip, out _));
        using (loaded)
        {
            Assert.Contains("\"backbone\":\"ResNet18\"", loaded.Network.ToJson(), StringComparison.Ordinal);
            var reloaded = DetectorTensors(loaded, expected.Length);
            for (var i = 0; i < expected.Length; i++)
                Assert.True(expected[i].Values.AsSpan().SequenceEqual(reloaded[i]), $"tensor #{i + 1} ({expected[i].Name}) differs after loading");
            var before = model.Transform(training).GetColumn<float[]>("Score").ToArray();
            var after = loaded.Transform(training).GetColumn<float[]>("Score").ToArray();
            Assert.True(before.Sum(s => s.Length) > 0, "the model should detect something to compare");
            Assert.Equal(before, after);
        }
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void ResNet18Backbone_FileOfAnotherStructureOrWidth_ThrowsNamingTheFileBeforeTraining()
    {
        var ml = new MLContext(seed: 1);
        var training = Training(ml, out _);
        var batches = new CountingCallback();

        // A state dict of another network (a small CNN named features.*, classifier).
        var small = StateDict("small");
        var other = Assert.Throws<PretrainedWeightsException>(() =>
            ml.MulticlassClassification.Trainers.ObjectDetector(Options(PretrainedWeights.FromPyTorch(small), callback: batches)).Fit(training));
        output.WriteLine(other.Message);
        Assert.Equal(small, other.FilePath);
        Assert.Contains(small, other.Message, StringComparison.Ordinal);
        Assert.Contains("tensors", other.Message, StringComparison.Ordinal);

        // The right file, but a backbone of half the width: the first tensor's shape differs.
        var resnet = StateDict("resnet18");
        var narrow = Assert.Throws<PretrainedWeightsException>(() =>
            ml.MulticlassClassification.Trainers.ObjectDetector(Options(PretrainedWeights.FromPyTorch(resnet), width: 0.5, callback: batches)).Fit(training));
        output.WriteLine(narrow.Message);
        Assert.Contains(resnet, narrow.Message, StringComparison.Ordinal);
        Assert.Contains("conv1.weight", narrow.Message, StringComparison.Ordinal);
        Assert.Contains("[64, 3, 7, 7]", narrow.Message, StringComparison.Ordinal);

        Assert.Equal(0, batches.Batches);

        // A file that does not exist fails where it is named.
        var missing = Path.Combine(_dir, "missing.pt");
        var notFound = Assert.Throws<FileNotFoundException>(() => PretrainedWeights.FromPyTorch(missing));
        Assert.Contains(missing, notFound.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_ResNet18BackboneWithDepth_ThrowsNamingIt()
    {
        var ml = new MLContext(seed: 1);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions
        {
            Architecture = new SsdParameters { Backbone = DetectorBackbone.ResNet18, Depth = 2 },
        }));
        Assert.Contains("Architecture.Depth", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ResNet18", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DetectionArchitectures.AnchorFreeDetectorName, 16 * 16)]
    [InlineData(DetectionArchitectures.FasterRcnnName, 16 * 16 * 9 + 64)]
    [InlineData(DetectionArchitectures.SsdName, 1344)]
    public void ResNet18Backbone_EveryArchitecture_BuildsOnItsStride8Map(string architecture, int rows)
    {
        DetectorParameters parameters = architecture switch
        {
            DetectionArchitectures.FasterRcnnName => new FasterRcnnParameters(),
            DetectionArchitectures.SsdName => new SsdParameters(),
            _ => new AnchorFreeDetectorParameters(),
        };
        parameters.Backbone = DetectorBackbone.ResNet18;
        var network = ML.DeepExtensions.Networks.Network.Create().Architecture(parameters.ArchitectureName, parameters.Values(2, 3));
        Assert.Equal(rows, network.OutputShape(3, 128, 128)[0]);
    }

    /// <summary>Pretrained weights split the network's tensors into backbone and head by <see cref="DetectionTask.HeadTensors"/>:
    /// it must be the state tensors of the network's last layer (the head), for every architecture and backbone (a fixed count
    /// per architecture was wrong for the anchor-free head, its pyramid and SSD).</summary>
    [Theory]
    [InlineData(DetectionArchitectures.AnchorFreeDetectorName, 1, DetectorBackbone.Compact)]
    [InlineData(DetectionArchitectures.AnchorFreeDetectorName, 3, DetectorBackbone.Compact)]
    [InlineData(DetectionArchitectures.AnchorFreeDetectorName, 1, DetectorBackbone.ResNet18)]
    [InlineData(DetectionArchitectures.FasterRcnnName, 1, DetectorBackbone.ResNet18)]
    [InlineData(DetectionArchitectures.SsdName, 1, DetectorBackbone.Compact)]
    public void HeadTensors_AreTheStateTensorsOfTheNetworksLastLayer(string architecture, int pyramidLevels, DetectorBackbone backbone)
    {
        DetectorParameters parameters = architecture switch
        {
            DetectionArchitectures.FasterRcnnName => new FasterRcnnParameters { Width = 0.25, Proposals = 8, HeadUnits = 8 },
            DetectionArchitectures.SsdName => new SsdParameters { Width = 0.25 },
            _ => new AnchorFreeDetectorParameters { Width = 0.25, PyramidLevels = pyramidLevels },
        };
        parameters.Backbone = backbone;
        var task = new DetectionTask(new ObjectDetectorOptions { Architecture = parameters });
        using var model = ML.DeepExtensions.Scoring.NetworkModel.Build(task.CreateNetwork(2), [3, 64, 64], seed: 1, CPU);
        // Counted independently: the trainable parameters outside the backbone (everything but the last layer, as the
        // engine's freezing sees it) plus the head's batch-norm running statistics (2 per batch norm).
        var frozen = model.BackboneParameters().Select(p => p.Handle).ToHashSet();
        var headParameters = model.Module.parameters().Count(p => !frozen.Contains(p.Handle));
        var headStatistics = 2 * model.Module.named_children().Last().module.modules().Count(m => m is TorchSharp.Modules.BatchNorm);
        Assert.True(headStatistics > 0 || architecture == DetectionArchitectures.FasterRcnnName, "the head's batch norms should be counted");
        Assert.Equal(headParameters + headStatistics, task.HeadTensors(model.Module));
        output.WriteLine($"{architecture} ({pyramidLevels} level(s), {backbone} backbone): {task.HeadTensors(model.Module)} head tensors");
    }

    private sealed class CountingCallback : TrainingCallback
    {
        public int Batches { get; private set; }

        public override void OnBatchEnd(BatchProgress progress) => Batches++;
    }
}

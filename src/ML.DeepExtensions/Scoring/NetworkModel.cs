using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Scoring;

/// <summary>A built network with its weights on a device: the part of a fitted model that runs forward passes.</summary>
internal sealed class NetworkModel : IDisposable
{
    private readonly Generator _generator;

    private NetworkModel(Network network, int[] inputShape, nn.Module<Tensor, Tensor> module, Generator generator, Device device)
    {
        Network = network;
        InputShape = inputShape;
        Module = module;
        _generator = generator;
        Device = device;
        FeatureSize = checked((int)Shape.Size(inputShape));
        OutputSize = checked((int)Shape.Size(network.OutputShape(inputShape)));
    }

    public Network Network { get; }

    public int[] InputShape { get; }

    public nn.Module<Tensor, Tensor> Module { get; }

    /// <summary>The generator of the network's random layers (dropout, drop-path, augmentation); checkpoints save its state.</summary>
    public Generator Generator => _generator;

    public Device Device { get; }

    public int FeatureSize { get; }

    public int OutputSize { get; }

    /// <summary>A stable description of network + input, used to match checkpoints.</summary>
    public string Fingerprint => $"{Shape.Format(InputShape)} {Network.ToJson()}";

    /// <summary>Builds <paramref name="network"/> with initial weights drawn from <paramref name="seed"/>.</summary>
    public static NetworkModel Build(Network network, int[] inputShape, int seed, Device device)
    {
        TorchRuntime.EnsureInitialized();
        network.OutputShape(inputShape); // shape errors before any native allocation
        var generator = new Generator((ulong)(uint)seed);
        nn.Module<Tensor, Tensor> module;
        // Module initialisation draws from torch's global generator: seed it and build under the one lock every module
        // construction takes, so that concurrent trainings in one process stay deterministic.
        lock (Network.GlobalGeneratorLock)
        {
            torch.random.manual_seed(seed);
            module = network.Build(inputShape, new BuildContext(generator));
        }
        module.to(device);
        module.eval();
        return new NetworkModel(network, inputShape, module, generator, device);
    }

    /// <summary>Raw network outputs for <paramref name="rows"/> examples, row-major (rows × <see cref="OutputSize"/>).</summary>
    public float[] Forward(float[] features, int rows)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = HostCopy.ToTensor<float>(features.AsSpan(0, rows * FeatureSize), Shape.WithBatch(rows, InputShape)).to(Device);
        var y = Module.forward(x).reshape(rows, OutputSize).to(CPU);
        return HostCopy.ToArray<float>(y);
    }

    /// <summary>A copy of this model without its last layer (the output layer a trainer appends), with the same weights.</summary>
    public NetworkModel WithoutOutputLayer()
    {
        if (Network.Layers.Count < 2)
            throw new InvalidOperationException("The network has no layers before its output layer, so it has no features to extract.");
        var body = new Network(Network.Layers.Take(Network.Layers.Count - 1).ToArray());
        var copy = Build(body, InputShape, seed: 0, Device);
        try
        {
            using var scope = torch.NewDisposeScope();
            var source = Module.state_dict();
            var target = copy.Module.state_dict();
            copy.Module.load_state_dict(target.Keys.ToDictionary(k => k, k => source[k]), strict: true);
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>Parameters of every layer but the last (the output layer a trainer appends).</summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> BackboneParameters()
    {
        var layers = Module.children().ToArray();
        return layers.Take(layers.Length - 1).SelectMany(l => l.parameters()).ToArray();
    }

    public void SaveWeights(BinaryWriter writer) => Module.save(writer);

    public void LoadWeights(BinaryReader reader) => Module.load(reader);

    public void Dispose()
    {
        Module.Dispose();
        _generator.Dispose();
    }
}

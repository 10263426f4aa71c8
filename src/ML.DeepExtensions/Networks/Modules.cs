using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

// TorchSharp modules behind the layer descriptions. Internal: the public API speaks in layers.

internal sealed class ReshapeModule : nn.Module<Tensor, Tensor>
{
    private readonly int[] _shape;

    public ReshapeModule(int[] shape) : base("Reshape") => _shape = shape;

    public override Tensor forward(Tensor input) => input.reshape(Shape.WithBatch(input.shape[0], _shape));
}

internal sealed class GlobalAveragePoolModule : nn.Module<Tensor, Tensor>
{
    public GlobalAveragePoolModule() : base("GlobalAveragePool")
    {
    }

    public override Tensor forward(Tensor input)
        => input.mean(Enumerable.Range(2, (int)input.dim() - 2).Select(d => (long)d).ToArray());
}

/// <summary>Inverted dropout drawing its mask from a generator owned by the training run, so a seed fixes it.</summary>
internal sealed class SeededDropoutModule : nn.Module<Tensor, Tensor>
{
    private readonly double _rate;
    private readonly Generator _generator;

    public SeededDropoutModule(double rate, Generator generator) : base("Dropout")
    {
        _rate = rate;
        _generator = generator;
    }

    public override Tensor forward(Tensor input)
    {
        if (!training || _rate == 0)
            return input.alias();
        using var uniform = torch.rand(input.shape, dtype: input.dtype, generator: _generator);
        using var keep = uniform.ge(_rate).to(input.dtype).to(input.device);
        return input.mul(keep).div_(1 - _rate);
    }
}

internal sealed class EmbeddingModule : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Embedding embedding;

    public EmbeddingModule(int vocabularySize, int dimensions) : base("Embedding")
    {
        embedding = nn.Embedding(vocabularySize, dimensions);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var ids = input.to_type(ScalarType.Int64);
        return embedding.forward(ids);
    }
}

internal sealed class RecurrentModule : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.LSTM? lstm;
    private readonly TorchSharp.Modules.GRU? gru;
    private readonly int _layers;
    private readonly int _directions;
    private readonly bool _returnSequences;
    private readonly double _dropout;

    public RecurrentModule(RecurrentKind kind, int inputSize, int hiddenSize, int layers, bool bidirectional, bool returnSequences, double dropout)
        : base(kind.ToString())
    {
        if (kind == RecurrentKind.Lstm)
            lstm = nn.LSTM(inputSize, hiddenSize, layers, batchFirst: true, dropout: dropout, bidirectional: bidirectional);
        else
            gru = nn.GRU(inputSize, hiddenSize, layers, batchFirst: true, dropout: dropout, bidirectional: bidirectional);
        _layers = layers;
        _directions = bidirectional ? 2 : 1;
        _returnSequences = returnSequences;
        _dropout = dropout;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        Tensor output, hidden;
        if (lstm is not null)
        {
            (output, hidden) = UnrolledLstm.Run(lstm, input, _layers, _directions == 2, _dropout);
        }
        else
        {
            (output, hidden) = gru!.forward(input);
        }

        if (_returnSequences)
        {
            hidden.Dispose();
            return output;
        }
        output.Dispose();
        // hidden: (layers·directions, batch, size) → last layer, directions concatenated: (batch, directions·size).
        using (hidden)
        {
            var batch = hidden.shape[1];
            using var last = hidden.view(_layers, _directions, batch, -1)[-1];
            return last.permute(1, 0, 2).reshape(batch, -1);
        }
    }
}

/// <summary>activation(body(x) + shortcut(x)). Body registered before shortcut: torchvision's state-dict order.</summary>
internal sealed class ResidualModule : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _body;
    private readonly nn.Module<Tensor, Tensor>? _shortcut;
    private readonly nn.Module<Tensor, Tensor>? _activation;
    private readonly double _dropPath;
    private readonly Generator _generator;

    public ResidualModule(nn.Module<Tensor, Tensor> body, nn.Module<Tensor, Tensor>? shortcut, nn.Module<Tensor, Tensor>? activation, double dropPath, Generator generator)
        : base("Residual")
    {
        _body = body;
        _shortcut = shortcut;
        _activation = activation;
        _dropPath = dropPath;
        _generator = generator;
        // Explicit registration fixes the order (reflection over fields does not promise one).
        register_module("body", body);
        if (shortcut is not null)
            register_module("shortcut", shortcut);
        if (activation is not null)
            register_module("activation", activation);
    }

    public override Tensor forward(Tensor input)
    {
        using var body = DropBody(_body.forward(input));
        using var skip = _shortcut?.forward(input);
        using var sum = body.add(skip ?? input);
        return _activation is null ? sum.alias() : _activation.forward(sum);
    }

    private Tensor DropBody(Tensor body)
    {
        if (!training || _dropPath == 0)
            return body;
        using (body)
        {
            var shape = new long[body.dim()];
            Array.Fill(shape, 1L);
            shape[0] = body.shape[0];
            using var uniform = torch.rand(shape, dtype: body.dtype, generator: _generator);
            using var keep = uniform.ge(_dropPath).to(body.dtype).to(body.device);
            return body.mul(keep).div_(1 - _dropPath);
        }
    }
}

/// <summary>x · sigmoid(fc2(act(fc1(mean_hw(x))))), fc1/fc2 being 1×1 convolutions with bias (torchvision.ops.SqueezeExcitation).</summary>
internal sealed class SqueezeExcitationModule : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Conv2d fc1;
    private readonly nn.Module<Tensor, Tensor> activation;
    private readonly TorchSharp.Modules.Conv2d fc2;

    public SqueezeExcitationModule(int channels, int squeezeChannels, nn.Module<Tensor, Tensor> activation) : base("SqueezeExcitation")
    {
        fc1 = nn.Conv2d(channels, squeezeChannels, 1);
        this.activation = activation;
        fc2 = nn.Conv2d(squeezeChannels, channels, 1);
        register_module("fc1", fc1);
        register_module("activation", activation);
        register_module("fc2", fc2);
    }

    public override Tensor forward(Tensor input)
    {
        using var pooled = input.mean([2L, 3L], keepdim: true);
        using var squeezed = fc1.forward(pooled);
        using var activated = activation.forward(squeezed);
        using var excited = fc2.forward(activated);
        using var scale = excited.sigmoid();
        return input.mul(scale);
    }
}

/// <summary>
/// A network's layers in order: TorchSharp's <c>Sequential</c> (children named <c>0</c>, <c>1</c>, … as before, so the
/// state dict and saved models are unchanged) whose pass runs a layer in float32 inside a mixed-precision step when
/// its <see cref="MixedPrecisionRule"/> says so.
/// </summary>
internal sealed class LayerSequence : TorchSharp.Modules.Sequential
{
    private readonly nn.Module<Tensor, Tensor>[] _layers;
    private readonly MixedPrecisionRule?[] _rules;
    private readonly bool _judged;

    public LayerSequence((string Name, nn.Module<Tensor, Tensor> Module, MixedPrecisionRule? Rule)[] layers)
        : base(layers.Select(l => (l.Name, l.Module)).ToArray())
    {
        _layers = layers.Select(l => l.Module).ToArray();
        _rules = layers.Select(l => l.Rule).ToArray();
        _judged = _rules.Any(r => r is not null);
    }

    public override Tensor forward(Tensor input)
    {
        if (_layers.Length == 0)
            return input.alias();
        var mixed = _judged && Runtime.Autocast.ActiveOnCpu;
        var x = input;
        for (var i = 0; i < _layers.Length; i++)
        {
            var y = mixed && _rules[i] is { } rule && rule.KeepsFloat32(x) ? InFloat32(_layers[i], x) : _layers[i].call(x);
            if (i > 0)
                x.Dispose(); // an intermediate result; autograd keeps what it needs
            x = y;
        }
        return x;
    }

    private static Tensor InFloat32(nn.Module<Tensor, Tensor> layer, Tensor input)
    {
        using var float32 = Runtime.Autocast.SuspendOnCpu();
        if (input.dtype == ScalarType.Float32)
            return layer.call(input);
        using var cast = input.to(ScalarType.Float32);
        return layer.call(cast);
    }
}

/// <summary>Lists a module's state the way PyTorch's <c>state_dict()</c> orders it.</summary>
internal static class ModuleState
{
    /// <summary>
    /// PyTorch order: a module's own parameters, then its own persistent buffers, then each child's state,
    /// recursively (<c>bn1.weight, bn1.bias, bn1.running_mean, …, layer1.0.conv1.weight</c>). TorchSharp's
    /// <c>state_dict()</c> lists every parameter of the tree first and every buffer after, so importing a PyTorch state
    /// dict by position must walk the module tree with this instead. Keys are TorchSharp's names.
    /// </summary>
    public static IReadOnlyList<(string Key, Tensor Tensor)> InPyTorchOrder(nn.Module module)
    {
        var result = new List<(string, Tensor)>();
        Collect(module, "", result);
        return result;
    }

    private static void Collect(nn.Module module, string prefix, List<(string, Tensor)> result)
    {
        foreach (var (name, parameter) in module.named_parameters(recurse: false))
            result.Add((prefix + name, parameter));
        foreach (var (name, buffer) in module.named_buffers(recurse: false, include_nonpersistent: false))
            result.Add((prefix + name, buffer));
        foreach (var (name, child) in module.named_children())
            Collect(child, $"{prefix}{name}.", result);
    }
}

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
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        Tensor output, hidden;
        if (lstm is not null)
        {
            var (o, h, c) = lstm.forward(input);
            c.Dispose();
            (output, hidden) = (o, h);
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

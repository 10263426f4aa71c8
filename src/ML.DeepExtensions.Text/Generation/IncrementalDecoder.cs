using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text.Generation;

/// <summary>
/// Generation with a key/value cache over a language-model network built as a causal <see cref="TransformerLayer"/>
/// followed by per-position layers (the Dense output layer): <see cref="Start"/> runs the full forward pass once and
/// caches every block's keys and values; each <see cref="Next"/> then feeds one new token per row. Used in eval mode
/// under <c>no_grad</c> only.
/// </summary>
internal sealed class IncrementalDecoder : IDisposable
{
    private readonly TransformerModule _transformer;
    private readonly nn.Module<Tensor, Tensor>[] _head;
    private readonly KeyValueCache _cache;
    private readonly Device _device;

    private IncrementalDecoder(TransformerModule transformer, nn.Module<Tensor, Tensor>[] head, int capacity, Device device)
    {
        _transformer = transformer;
        _head = head;
        _device = device;
        _cache = new KeyValueCache(transformer.BlockCount, capacity);
    }

    /// <summary>A decoder for <paramref name="network"/>, or null when its shape does not allow caching (then generation
    /// recomputes the context for every token).</summary>
    public static IncrementalDecoder? TryCreate(nn.Module<Tensor, Tensor> network, int capacity, Device? device = null)
    {
        var children = network.children().ToArray();
        if (children.Length == 0 || children[0] is not TransformerModule { SupportsCachedDecoding: true } transformer)
            return null;
        var head = children.Skip(1).OfType<nn.Module<Tensor, Tensor>>().ToArray();
        if (head.Length != children.Length - 1)
            return null;
        return new IncrementalDecoder(transformer, head, capacity, device ?? transformer.parameters().First().device);
    }

    /// <summary>The network's output for ids (batch, length ≤ capacity), filling the cache.</summary>
    public Tensor Start(Tensor ids) => Head(_transformer.Forward(ids, _cache));

    /// <summary>Next-token logits (batch, vocabulary) after one more token per cached row, at the given positions.</summary>
    public Tensor Next(long[] tokens, long[] positions)
    {
        var ids = torch.tensor(tokens, new long[] { tokens.Length, 1 }).to(_device);
        var at = torch.tensor(positions).to(_device);
        return Head(_transformer.Step(ids, at, _cache)).squeeze(1);
    }

    /// <summary>Keeps the cached rows at these indices (in this order); the others are dropped.</summary>
    public void KeepRows(long[] rows)
    {
        using var scope = torch.NewDisposeScope();
        _cache.Select(torch.tensor(rows).to(_device));
    }

    private Tensor Head(Tensor x)
    {
        foreach (var layer in _head)
            x = layer.forward(x);
        return x;
    }

    public void Dispose() => _cache.Dispose();
}

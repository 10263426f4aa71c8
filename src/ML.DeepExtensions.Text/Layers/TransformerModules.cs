using System;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text;

// TorchSharp modules behind TransformerLayers.cs. A "keep" mask is a (batch, length) bool tensor, true at real tokens.

internal sealed class TokenEmbeddingModule : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Embedding token;
    private readonly TorchSharp.Modules.Embedding? position;
    private readonly int _vocabularySize;
    private readonly int _paddingId;

    public TokenEmbeddingModule(int vocabularySize, int dimensions, int maxLength, int paddingId, bool learnedPositions) : base("TokenEmbedding")
    {
        _vocabularySize = vocabularySize;
        _paddingId = paddingId;
        token = nn.Embedding(vocabularySize, dimensions);
        register_module("token", token);
        // A scope frees the handle nn.init returns (TorchSharp makes a new one); the weight itself is not in it.
        using (torch.NewDisposeScope())
        using (torch.no_grad())
            nn.init.normal_(token.weight!, 0, 0.02);
        if (learnedPositions)
        {
            position = nn.Embedding(maxLength, dimensions);
            register_module("position", position);
            using (torch.NewDisposeScope())
            using (torch.no_grad())
                nn.init.normal_(position.weight!, 0, 0.02);
        }
        else
        {
            register_buffer("sinusoids", Sinusoids(maxLength, dimensions).DetachFromDisposeScope(), persistent: false);
        }
    }

    /// <summary>Ids (batch, length) as any numeric type → (batch, length, dimensions), padding rows zero.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var ids = Ids(input);
        return Embed(ids, ids.ne(_paddingId)).MoveToOuterDisposeScope();
    }

    /// <summary>Ids as Int64, checked to lie in the vocabulary.</summary>
    public Tensor Ids(Tensor input)
    {
        var ids = input.to_type(ScalarType.Int64);
        if (ids.numel() > 0)
        {
            var (min, max) = (ids.min().ToInt64(), ids.max().ToInt64());
            if (min < 0 || max >= _vocabularySize)
                throw new ArgumentException($"TokenEmbedding expects token ids in [0, {_vocabularySize}); received ids from {min} to {max}. Use the vocabulary size of the tokenizer that made the ids.");
        }
        return ids;
    }

    public Tensor Embed(Tensor ids, Tensor keep)
    {
        using var scope = torch.NewDisposeScope();
        var length = ids.shape[1];
        var tokens = token.forward(ids);
        var positions = position is not null
            ? position.forward(torch.arange(length, dtype: ScalarType.Int64, device: ids.device))
            : get_buffer("sinusoids")!.narrow(0, 0, length);
        var sum = tokens + positions.unsqueeze(0);
        return sum.mul(keep.unsqueeze(-1).to(sum.dtype)).MoveToOuterDisposeScope();
    }

    internal static Tensor Sinusoids(int maxLength, int dimensions)
    {
        var table = new float[maxLength * dimensions];
        for (var p = 0; p < maxLength; p++)
        {
            for (var i = 0; i < dimensions; i++)
            {
                var angle = p / Math.Pow(10000, 2 * (i / 2) / (double)dimensions);
                table[p * dimensions + i] = (float)(i % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle));
            }
        }
        return torch.tensor(table, new long[] { maxLength, dimensions });
    }
}

/// <summary>Multi-head scaled dot-product self-attention with key-padding and optional causal masks.</summary>
internal sealed class SelfAttentionModule : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear qkv;
    private readonly TorchSharp.Modules.Linear output;
    private readonly int _heads;
    private readonly double _dropout;
    private readonly bool _causal;
    private readonly Generator _generator;

    public SelfAttentionModule(int dimensions, int heads, double dropout, bool causal, Generator generator) : base("SelfAttention")
    {
        qkv = nn.Linear(dimensions, 3 * dimensions);
        output = nn.Linear(dimensions, dimensions);
        register_module("qkv", qkv);
        register_module("output", output);
        _heads = heads;
        _dropout = dropout;
        _causal = causal;
        _generator = generator;
    }

    /// <summary>x (batch, length, d), keep (batch, length) → (batch, length, d).</summary>
    public override Tensor forward(Tensor x, Tensor keep)
    {
        using var scope = torch.NewDisposeScope();
        var (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2]);
        var headWidth = width / _heads;
        var parts = qkv.forward(x).view(batch, length, 3, _heads, headWidth).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (parts[0], parts[1], parts[2]);
        var scores = q.matmul(k.transpose(-2, -1)).mul_(1.0 / Math.Sqrt(headWidth));
        scores = scores.masked_fill(Allowed(keep, length).logical_not(), float.NegativeInfinity);
        var weights = scores.softmax(-1);
        if (training && _dropout > 0)
            weights = Dropout(weights, _dropout, _generator);
        var mixed = weights.matmul(v).transpose(1, 2).reshape(batch, length, width);
        return output.forward(mixed).MoveToOuterDisposeScope();
    }

    /// <summary>(batch, 1, length, length): key j visible to query i. The diagonal is always visible, so no row is empty.</summary>
    private Tensor Allowed(Tensor keep, long length)
    {
        var allowed = keep.view(keep.shape[0], 1, 1, length).expand(-1, 1, length, -1);
        if (_causal)
            allowed = allowed.logical_and(torch.ones(length, length, dtype: ScalarType.Bool, device: keep.device).tril());
        return allowed.logical_or(torch.eye(length, dtype: ScalarType.Bool, device: keep.device));
    }

    internal static Tensor Dropout(Tensor input, double rate, Generator generator)
    {
        using var uniform = torch.rand(input.shape, dtype: input.dtype, generator: generator);
        using var keep = uniform.ge(rate).to(input.dtype).to(input.device);
        return input.mul(keep).div_(1 - rate);
    }
}

/// <summary>Pre-LN block; as a plain module it reads the padding from all-zero rows.</summary>
internal sealed class TransformerBlockModule : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.LayerNorm norm1;
    private readonly SelfAttentionModule attention;
    private readonly TorchSharp.Modules.LayerNorm norm2;
    private readonly TorchSharp.Modules.Sequential mlp;
    private readonly double _dropout;
    private readonly Generator _generator;

    public TransformerBlockModule(int dimensions, int heads, int feedForward, double dropout, bool causal, Generator generator) : base("TransformerBlock")
    {
        norm1 = nn.LayerNorm(new long[] { dimensions });
        attention = new SelfAttentionModule(dimensions, heads, dropout, causal, generator);
        norm2 = nn.LayerNorm(new long[] { dimensions });
        mlp = nn.Sequential(("0", nn.Linear(dimensions, feedForward)), ("1", nn.GELU()), ("2", nn.Linear(feedForward, dimensions)));
        register_module("norm1", norm1);
        register_module("attention", attention);
        register_module("norm2", norm2);
        register_module("mlp", mlp);
        _dropout = dropout;
        _generator = generator;
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var keep = input.ne(0).any(-1);
        return Forward(input, keep).MoveToOuterDisposeScope();
    }

    /// <summary>x (batch, length, d) with its keep mask → (batch, length, d), padding rows zero.</summary>
    public Tensor Forward(Tensor x, Tensor keep)
    {
        using var scope = torch.NewDisposeScope();
        var h = x + Drop(attention.forward(norm1.forward(x), keep));
        h = h + Drop(mlp.forward(norm2.forward(h)));
        return h.mul(keep.unsqueeze(-1).to(h.dtype)).MoveToOuterDisposeScope();
    }

    private Tensor Drop(Tensor t) => training && _dropout > 0 ? SelfAttentionModule.Dropout(t, _dropout, _generator) : t;
}

/// <summary>First / mean / last over the kept positions; keep from the ids (composite) or from non-zero rows.</summary>
internal sealed class SequencePoolModule : nn.Module<Tensor, Tensor>
{
    private readonly SequencePooling _pooling;

    public SequencePoolModule(SequencePooling pooling) : base("SequencePool") => _pooling = pooling;

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        return Pool(input, input.ne(0).any(-1), _pooling).MoveToOuterDisposeScope();
    }

    public static Tensor Pool(Tensor x, Tensor keep, SequencePooling pooling)
    {
        using var scope = torch.NewDisposeScope();
        var weights = keep.to(x.dtype);
        var counts = weights.sum(1, keepdim: true);
        Tensor pooled;
        switch (pooling)
        {
            case SequencePooling.First:
                pooled = x.select(1, 0).mul(weights.select(1, 0).unsqueeze(-1));
                break;
            case SequencePooling.Mean:
                pooled = x.mul(weights.unsqueeze(-1)).sum(1).div(counts.clamp_min(1));
                break;
            default:
                // Last kept position: index = count − 1 for right-padded rows; rows without tokens give zeros.
                var last = (counts.to_type(ScalarType.Int64) - 1).clamp_min(0);
                var gathered = x.gather(1, last.unsqueeze(-1).expand(-1, 1, x.shape[2])).squeeze(1);
                pooled = gathered.mul(counts.gt(0).to(x.dtype));
                break;
        }
        return pooled.MoveToOuterDisposeScope();
    }
}

/// <summary>Embedding, blocks, final norm and optional pooling, the keep mask taken from the ids.</summary>
internal sealed class TransformerModule : nn.Module<Tensor, Tensor>
{
    private readonly TokenEmbeddingModule embedding;
    private readonly TorchSharp.Modules.ModuleList<TransformerBlockModule> blocks;
    private readonly TorchSharp.Modules.LayerNorm norm;
    private readonly int _paddingId;
    private readonly double _dropout;
    private readonly SequencePooling _pooling;
    private readonly Generator _generator;

    public TransformerModule(TransformerLayer spec, Generator generator) : base("Transformer")
    {
        embedding = new TokenEmbeddingModule(spec.VocabularySize, spec.Dimensions, spec.MaxLength, spec.PaddingId, spec.LearnedPositions);
        blocks = new TorchSharp.Modules.ModuleList<TransformerBlockModule>();
        for (var i = 0; i < spec.Layers; i++)
            blocks.Add(new TransformerBlockModule(spec.Dimensions, spec.Heads, spec.FeedForward, spec.Dropout, spec.Causal, generator));
        norm = nn.LayerNorm(new long[] { spec.Dimensions });
        register_module("embedding", embedding);
        register_module("blocks", blocks);
        register_module("norm", norm);
        _paddingId = spec.PaddingId;
        _dropout = spec.Dropout;
        _pooling = spec.Pooling;
        _generator = generator;
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var ids = embedding.Ids(input);
        var keep = ids.ne(_paddingId);
        var x = embedding.Embed(ids, keep);
        if (training && _dropout > 0)
            x = SelfAttentionModule.Dropout(x, _dropout, _generator);
        foreach (var block in blocks)
            x = block.Forward(x, keep);
        x = norm.forward(x).mul(keep.unsqueeze(-1).to(x.dtype));
        var result = _pooling == SequencePooling.None ? x : SequencePoolModule.Pool(x, keep, _pooling);
        return result.MoveToOuterDisposeScope();
    }
}

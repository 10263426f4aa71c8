using System;
using System.Linq;
using ML.DeepExtensions.Runtime;
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

    /// <summary>Ids (batch, 1) at per-row positions (batch) → (batch, 1, dimensions): one new token per row, for cached decoding.</summary>
    public Tensor EmbedAt(Tensor ids, Tensor positions)
    {
        using var scope = torch.NewDisposeScope();
        var tokens = token.forward(ids);
        var at = position is not null ? position.forward(positions) : get_buffer("sinusoids")!.index_select(0, positions);
        return tokens.add(at.unsqueeze(1)).MoveToOuterDisposeScope();
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

    /// <summary>
    /// Whether attention without dropout (scoring, generation, training with dropout 0) runs through libtorch's fused
    /// <c>scaled_dot_product_attention</c> (default true); false computes softmax(QKᵀ/√d + mask)·V step by step. Both
    /// agree within float rounding (tests compare them); internal so tests and benchmarks can measure either.
    /// </summary>
    internal static bool Fused { get; set; } = true;

    /// <summary>
    /// libtorch's fused <c>scaled_dot_product_attention</c>, run in float32 also inside a mixed-precision training step
    /// (<see cref="Autocast.SuspendOnCpu"/>: on the CPU its bfloat16 kernel measured 2.5× slower than float32), so only
    /// the projections around it take bfloat16.
    /// </summary>
    internal static Tensor FusedAttention(Tensor q, Tensor k, Tensor v, Tensor mask)
    {
        using var float32 = Autocast.SuspendOnCpu();
        return float32 is null
            ? nn.functional.scaled_dot_product_attention(q, k, v, mask)
            : nn.functional.scaled_dot_product_attention(q.to(ScalarType.Float32), k.to(ScalarType.Float32), v.to(ScalarType.Float32), mask);
    }

    /// <summary>x (batch, length, d), keep (batch, length) → (batch, length, d).</summary>
    public override Tensor forward(Tensor x, Tensor keep) => Forward(x, keep, null, 0);

    /// <summary>
    /// As <see cref="forward(Tensor, Tensor)"/>; with a <paramref name="cache"/>, the keys and values of every position are
    /// also stored in block <paramref name="block"/>'s slots of the cache (positions 0 … length − 1).
    /// </summary>
    public Tensor Forward(Tensor x, Tensor keep, KeyValueCache? cache, int block)
    {
        using var scope = torch.NewDisposeScope();
        var (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2]);
        var headWidth = width / _heads;
        var parts = qkv.forward(x).view(batch, length, 3, _heads, headWidth).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (parts[0], parts[1], parts[2]);
        cache?.Store(block, k, v);
        Tensor attended;
        if (training && _dropout > 0 || !Fused)
        {
            var scores = q.matmul(k.transpose(-2, -1)).mul_(1.0 / Math.Sqrt(headWidth));
            scores = scores.masked_fill(Allowed(keep, length).logical_not(), float.NegativeInfinity);
            var weights = scores.softmax(-1);
            if (training && _dropout > 0)
                weights = Dropout(weights, _dropout, _generator);
            attended = weights.matmul(v);
        }
        else
        {
            // libtorch's fused kernel; the dropout path above stays ours because its mask must come from the model's generator.
            attended = FusedAttention(q, k, v, Allowed(keep, length));
        }
        var mixed = attended.transpose(1, 2).reshape(batch, length, width);
        return output.forward(mixed).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One new position per row: x (batch, 1, d) at <paramref name="positions"/> (batch). Its key and value are written into
    /// the cache first, then its query attends to every cached position the cache's keep mask allows — the same keys the
    /// full causal forward pass would let it see, so the result equals that pass's output at this position.
    /// </summary>
    public Tensor Step(Tensor x, Tensor positions, KeyValueCache cache, int block)
    {
        using var scope = torch.NewDisposeScope();
        var (batch, width) = (x.shape[0], x.shape[2]);
        var headWidth = width / _heads;
        var parts = qkv.forward(x).view(batch, 1, 3, _heads, headWidth).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (parts[0], parts[1], parts[2]);
        var (keys, values) = cache.Write(block, positions, k, v);
        var scores = q.matmul(keys.transpose(-2, -1)).mul_(1.0 / Math.Sqrt(headWidth));
        scores = scores.masked_fill(cache.Keep.view(batch, 1, 1, -1).logical_not(), float.NegativeInfinity);
        var mixed = scores.softmax(-1).matmul(values).transpose(1, 2).reshape(batch, 1, width);
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

    /// <summary>x (batch, length, d) with its keep mask → (batch, length, d), padding rows zero; keys and values go to
    /// <paramref name="cache"/> when one is given.</summary>
    public Tensor Forward(Tensor x, Tensor keep, KeyValueCache? cache = null, int block = 0)
    {
        using var scope = torch.NewDisposeScope();
        var h = x + Drop(attention.Forward(norm1.forward(x), keep, cache, block));
        h = h + Drop(mlp.forward(norm2.forward(h)));
        return h.mul(keep.unsqueeze(-1).to(h.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>One new (real) position per row, x (batch, 1, d), attending to the cache (see <see cref="SelfAttentionModule.Step"/>).</summary>
    public Tensor Step(Tensor x, Tensor positions, KeyValueCache cache, int block)
    {
        using var scope = torch.NewDisposeScope();
        var h = x + attention.Step(norm1.forward(x), positions, cache, block);
        return (h + mlp.forward(norm2.forward(h))).MoveToOuterDisposeScope();
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
    private readonly bool _causal;
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
        _causal = spec.Causal;
        _generator = generator;
    }

    public override Tensor forward(Tensor input) => Forward(input, null);

    /// <summary>Whether <see cref="Step"/> can continue this module's output (causal, one output per position).</summary>
    public bool SupportsCachedDecoding => _causal && _pooling == SequencePooling.None;

    /// <summary>The number of blocks (each holds keys and values in a <see cref="KeyValueCache"/>).</summary>
    public int BlockCount => blocks.Count;

    /// <summary>The forward pass; with a <paramref name="cache"/> (eval mode) every block's keys and values are stored in it too.</summary>
    public Tensor Forward(Tensor input, KeyValueCache? cache)
    {
        using var scope = torch.NewDisposeScope();
        var ids = embedding.Ids(input);
        var keep = ids.ne(_paddingId);
        cache?.Start(keep);
        var x = embedding.Embed(ids, keep);
        if (training && _dropout > 0)
            x = SelfAttentionModule.Dropout(x, _dropout, _generator);
        for (var i = 0; i < blocks.Count; i++)
            x = blocks[i].Forward(x, keep, cache, i);
        x = norm.forward(x).mul(keep.unsqueeze(-1).to(x.dtype));
        var result = _pooling == SequencePooling.None ? x : SequencePoolModule.Pool(x, keep, _pooling);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Continues a causal forward pass by one real token per row: ids (batch, 1) at <paramref name="positions"/> (batch,
    /// Int64, each below the cache's capacity and after every position already cached for that row) → (batch, 1, d),
    /// equal to what <see cref="forward"/> computes at those positions for the whole sequences.
    /// </summary>
    public Tensor Step(Tensor ids, Tensor positions, KeyValueCache cache)
    {
        using var scope = torch.NewDisposeScope();
        cache.Admit(positions);
        var x = embedding.EmbedAt(ids.to_type(ScalarType.Int64), positions); // ids the generator chose from the vocabulary: no range check
        for (var i = 0; i < blocks.Count; i++)
            x = blocks[i].Step(x, positions, cache, i);
        return norm.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Keys and values of every block of a causal <see cref="TransformerModule"/> for rows being generated, so each new
/// token costs one position's work instead of a pass over the whole context. Tensors (batch, heads, capacity, head width)
/// per block and a keep mask (batch, capacity) of the positions a new token may attend to; owned by this object.
/// </summary>
internal sealed class KeyValueCache : IDisposable
{
    private readonly Tensor?[] _keys;
    private readonly Tensor?[] _values;
    private Tensor? _keep;

    public KeyValueCache(int blocks, int capacity)
    {
        _keys = new Tensor?[blocks];
        _values = new Tensor?[blocks];
        Capacity = capacity;
    }

    /// <summary>Positions each row can hold (the model's context length).</summary>
    public int Capacity { get; }

    /// <summary>(batch, capacity) Bool: real tokens cached so far.</summary>
    public Tensor Keep => _keep ?? throw new InvalidOperationException("The cache is empty: run the forward pass with it first.");

    /// <summary>A forward pass begins: the cache is cleared and takes the pass's keep mask (batch, length ≤ capacity).</summary>
    public void Start(Tensor keep)
    {
        if (keep.shape[1] > Capacity)
            throw new ArgumentException($"The sequence has {keep.shape[1]} positions; the cache holds {Capacity}.");
        Clear();
        var padded = torch.zeros(keep.shape[0], Capacity, dtype: ScalarType.Bool, device: keep.device);
        padded.narrow(1, 0, keep.shape[1]).copy_(keep);
        _keep = padded.DetachFromDisposeScope();
    }

    /// <summary>Stores a block's keys and values (batch, heads, length, head width) at positions 0 … length − 1.</summary>
    public void Store(int block, Tensor keys, Tensor values)
    {
        _keys[block]?.Dispose();
        _values[block]?.Dispose();
        _keys[block] = Padded(keys);
        _values[block] = Padded(values);
    }

    private Tensor Padded(Tensor t)
    {
        var shape = t.shape.ToArray();
        shape[2] = Capacity;
        var padded = torch.zeros(shape, dtype: t.dtype, device: t.device);
        using (torch.no_grad())
            padded.narrow(2, 0, t.shape[2]).copy_(t);
        return padded.DetachFromDisposeScope();
    }

    /// <summary>New tokens at <paramref name="positions"/> (batch) become visible (each also sees itself).</summary>
    public void Admit(Tensor positions)
    {
        using var scope = torch.NewDisposeScope();
        Keep.scatter_(1, positions.view(-1, 1), torch.ones(positions.shape[0], 1, dtype: ScalarType.Bool, device: positions.device));
    }

    /// <summary>Writes one position's key and value per row (batch, heads, 1, head width) and returns the block's full tensors.</summary>
    public (Tensor Keys, Tensor Values) Write(int block, Tensor positions, Tensor key, Tensor value)
    {
        var keys = _keys[block] ?? throw new InvalidOperationException($"Block {block} has no cached keys.");
        var values = _values[block]!;
        using var scope = torch.NewDisposeScope();
        var index = positions.view(-1, 1, 1, 1).expand(-1, key.shape[1], 1, key.shape[3]);
        keys.scatter_(2, index, key);
        values.scatter_(2, index, value);
        return (keys, values);
    }

    /// <summary>Keeps only the rows at <paramref name="rows"/> (Int64 indices), in that order.</summary>
    public void Select(Tensor rows)
    {
        _keep = Replace(_keep, rows);
        for (var i = 0; i < _keys.Length; i++)
        {
            _keys[i] = Replace(_keys[i], rows);
            _values[i] = Replace(_values[i], rows);
        }
    }

    private static Tensor? Replace(Tensor? t, Tensor rows)
    {
        if (t is null)
            return null;
        var selected = t.index_select(0, rows).DetachFromDisposeScope();
        t.Dispose();
        return selected;
    }

    private void Clear()
    {
        _keep?.Dispose();
        _keep = null;
        for (var i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose();
            _values[i]?.Dispose();
            _keys[i] = _values[i] = null;
        }
    }

    public void Dispose() => Clear();
}

using System;
using ML.DeepExtensions.Networks;
using TorchSharp;
using ML.DeepExtensions.Text.Classification;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text;

/// <summary>
/// A BERT encoder over token ids, post-LayerNorm as in the original BERT (Devlin et al.) and every model derived from it
/// (MiniLM, sentence-transformers' all-MiniLM-L6-v2, DistilBERT-free BERT checkpoints): ids <c>(length)</c> →
/// LayerNorm(token + position + segment embeddings) → <see cref="Layers"/> blocks of
/// <c>x = LayerNorm(x + Attention(x))</c>, <c>x = LayerNorm(x + Dense(GELU(Dense(x))))</c> → <c>(length, dimensions)</c>, or
/// <c>(dimensions)</c> when <see cref="Pooling"/> is not None, optionally scaled to unit L2 norm (<see cref="Normalize"/>, as
/// sentence-transformers does for embeddings). The segment (token type) is 0 for every position. Keys at padding positions
/// (<c>id == PaddingId</c>) are masked out of attention by adding −10000 to their scores (BERT's own mask); pooling skips them
/// and padding rows of an unpooled output are zero. Pooled, each batch is first cut to its longest row.
/// GELU is the exact (erf) form. Weights can be imported from an ONNX export of a Hugging Face BERT model
/// (<c>TextEncoder.PretrainedBert</c>); the parameters are in BERT's order: <c>word</c> (vocabularySize, d),
/// <c>position</c> (maxPositions, d), <c>tokenType</c> (typeVocabularySize, d), <c>norm</c>,
/// then per block <c>query</c>, <c>key</c>, <c>value</c>, <c>attentionOutput</c>, <c>attentionNorm</c>, <c>intermediate</c>,
/// <c>output</c>, <c>outputNorm</c> (weights as (out, in), each followed by its bias).
/// </summary>
public sealed class BertEncoderLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="vocabularySize">Number of distinct ids, &gt; 0 (30,522 for the uncased BERT vocabulary).</param>
    /// <param name="dimensions">Hidden size, &gt; 0, divisible by <paramref name="heads"/>.</param>
    /// <param name="layers">Encoder blocks, &gt; 0.</param>
    /// <param name="heads">Attention heads per block, &gt; 0.</param>
    /// <param name="feedForward">Intermediate (feed-forward) width, &gt; 0; 0 means 4 × dimensions.</param>
    /// <param name="maxPositions">Learned positions, &gt; 0 (512 for BERT): the longest input.</param>
    /// <param name="typeVocabularySize">Segment (token type) embeddings, &gt; 0 (2 for BERT).</param>
    /// <param name="paddingId">Id marking padding, in [0, vocabularySize) (BERT's [PAD] is 0).</param>
    /// <param name="dropout">Dropout after the embeddings, on attention weights and on both residual branches while training, in [0, 1) (default 0.1).</param>
    /// <param name="layerNormEpsilon">ε of every LayerNorm, &gt; 0 (BERT: 1e-12).</param>
    /// <param name="pooling">None (the sequence), First ([CLS]) or Mean over real tokens.</param>
    /// <param name="normalize">Scale the pooled vector to unit L2 norm (needs pooling).</param>
    public BertEncoderLayer(int vocabularySize, int dimensions, int layers, int heads, int feedForward = 0, int maxPositions = 512, int typeVocabularySize = 2,
        int paddingId = 0, double dropout = 0.1, double layerNormEpsilon = 1e-12, SequencePooling pooling = SequencePooling.None, bool normalize = false)
    {
        VocabularySize = Guard.Positive(vocabularySize);
        Dimensions = Guard.Positive(dimensions);
        Layers = Guard.Positive(layers);
        Heads = Guard.Positive(heads);
        if (dimensions % heads != 0)
            throw new ArgumentException($"dimensions must be divisible by heads. Received: dimensions={dimensions}, heads={heads}", nameof(heads));
        FeedForward = feedForward == 0 ? 4 * dimensions : Guard.Positive(feedForward);
        MaxPositions = Guard.Positive(maxPositions);
        TypeVocabularySize = Guard.Positive(typeVocabularySize);
        if (paddingId < 0 || paddingId >= vocabularySize)
            throw new ArgumentOutOfRangeException(nameof(paddingId), paddingId, $"paddingId must be in [0, {vocabularySize}). Received: paddingId={paddingId}");
        PaddingId = paddingId;
        Dropout = Guard.InRange(dropout, 0, 1);
        if (!(layerNormEpsilon > 0) || double.IsInfinity(layerNormEpsilon))
            throw new ArgumentOutOfRangeException(nameof(layerNormEpsilon), layerNormEpsilon, $"layerNormEpsilon must be positive. Received: layerNormEpsilon={layerNormEpsilon}");
        LayerNormEpsilon = layerNormEpsilon;
        if (pooling is not (SequencePooling.None or SequencePooling.First or SequencePooling.Mean))
            throw new ArgumentOutOfRangeException(nameof(pooling), pooling, $"pooling must be None, First or Mean. Received: pooling={pooling}");
        if (normalize && pooling == SequencePooling.None)
            throw new ArgumentException("normalize scales a pooled vector: set pooling to First or Mean. Received: normalize=true, pooling=None", nameof(normalize));
        Pooling = pooling;
        Normalize = normalize;
    }

    /// <summary>Number of distinct ids.</summary>
    public int VocabularySize { get; }
    /// <summary>Hidden size.</summary>
    public int Dimensions { get; }
    /// <summary>Encoder blocks.</summary>
    public int Layers { get; }
    /// <summary>Attention heads per block.</summary>
    public int Heads { get; }
    /// <summary>Intermediate width.</summary>
    public int FeedForward { get; }
    /// <summary>Learned positions: the longest input.</summary>
    public int MaxPositions { get; }
    /// <summary>Segment embeddings.</summary>
    public int TypeVocabularySize { get; }
    /// <summary>Id marking padding.</summary>
    public int PaddingId { get; }
    /// <summary>Dropout rate while training.</summary>
    public double Dropout { get; }
    /// <summary>ε of every LayerNorm.</summary>
    public double LayerNormEpsilon { get; }
    /// <summary>Pooling of the output.</summary>
    public SequencePooling Pooling { get; }
    /// <summary>Whether the pooled vector is scaled to unit L2 norm.</summary>
    public bool Normalize { get; }

    /// <inheritdoc />
    public override string ToString()
        => $"BertEncoder(post-LN, {Layers} layers, hidden {Dimensions}, {Heads} heads, intermediate {FeedForward}, vocabulary {VocabularySize}, max {MaxPositions} positions"
           + $"{(Pooling == SequencePooling.None ? "" : $", {Pooling} pooling")}{(Normalize ? ", L2-normalized" : "")})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        if (input.Length != 1)
            throw ShapeError(index, input, "(length) token ids");
        if (input[0] > MaxPositions)
            throw ShapeError(index, input, $"at most {MaxPositions} token ids (the encoder's learned positions); tokenize with MaxLength ≤ {MaxPositions}");
        return Pooling == SequencePooling.None ? [input[0], Dimensions] : [Dimensions];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new BertEncoderModule(this, context.Generator);
}

/// <summary>One post-LN BERT block; parameters registered in BERT's order.</summary>
internal sealed class BertBlockModule : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear query;
    private readonly TorchSharp.Modules.Linear key;
    private readonly TorchSharp.Modules.Linear value;
    private readonly TorchSharp.Modules.Linear attentionOutput;
    private readonly TorchSharp.Modules.LayerNorm attentionNorm;
    private readonly TorchSharp.Modules.Linear intermediate;
    private readonly TorchSharp.Modules.Linear output;
    private readonly TorchSharp.Modules.LayerNorm outputNorm;
    private readonly int _heads;
    private readonly double _dropout;
    private readonly Generator _generator;

    public BertBlockModule(BertEncoderLayer spec, Generator generator) : base("BertBlock")
    {
        var d = spec.Dimensions;
        query = nn.Linear(d, d);
        key = nn.Linear(d, d);
        value = nn.Linear(d, d);
        attentionOutput = nn.Linear(d, d);
        attentionNorm = nn.LayerNorm(new long[] { d }, spec.LayerNormEpsilon);
        intermediate = nn.Linear(d, spec.FeedForward);
        output = nn.Linear(spec.FeedForward, d);
        outputNorm = nn.LayerNorm(new long[] { d }, spec.LayerNormEpsilon);
        register_module("query", query);
        register_module("key", key);
        register_module("value", value);
        register_module("attentionOutput", attentionOutput);
        register_module("attentionNorm", attentionNorm);
        register_module("intermediate", intermediate);
        register_module("output", output);
        register_module("outputNorm", outputNorm);
        _heads = spec.Heads;
        _dropout = spec.Dropout;
        _generator = generator;
    }

    /// <summary>x (batch, length, d), additive key mask (batch, 1, 1, length) → (batch, length, d).</summary>
    public override Tensor forward(Tensor x, Tensor keyMask)
    {
        using var scope = torch.NewDisposeScope();
        var (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2]);
        var headWidth = width / _heads;
        Tensor Split(Tensor t) => t.view(batch, length, _heads, headWidth).transpose(1, 2);
        var q = Split(query.forward(x));
        var k = Split(key.forward(x));
        var v = Split(value.forward(x));
        // Without dropout, libtorch's fused kernel (see SelfAttentionModule.Fused); with it, ours, whose mask comes from the model's generator.
        var attended = training && _dropout > 0 || !SelfAttentionModule.Fused
            ? Drop(q.matmul(k.transpose(-2, -1)).div_(Math.Sqrt(headWidth)).add_(keyMask).softmax(-1)).matmul(v)
            : SelfAttentionModule.FusedAttention(q, k, v, keyMask);
        var mixed = attended.transpose(1, 2).reshape(batch, length, width);
        var h = attentionNorm.forward(Drop(attentionOutput.forward(mixed)).add_(x));
        var feed = output.forward(nn.functional.gelu(intermediate.forward(h)));
        return outputNorm.forward(Drop(feed).add_(h)).MoveToOuterDisposeScope();
    }

    private Tensor Drop(Tensor t) => training && _dropout > 0 ? SelfAttentionModule.Dropout(t, _dropout, _generator) : t;
}

/// <summary>Embeddings, blocks, pooling and normalization of <see cref="BertEncoderLayer"/>.</summary>
internal sealed class BertEncoderModule : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Embedding word;
    private readonly TorchSharp.Modules.Embedding position;
    private readonly TorchSharp.Modules.Embedding tokenType;
    private readonly TorchSharp.Modules.LayerNorm norm;
    private readonly TorchSharp.Modules.ModuleList<BertBlockModule> blocks;
    private readonly BertEncoderLayer _spec;
    private readonly Generator _generator;

    public BertEncoderModule(BertEncoderLayer spec, Generator generator) : base("BertEncoder")
    {
        _spec = spec;
        _generator = generator;
        word = nn.Embedding(spec.VocabularySize, spec.Dimensions);
        position = nn.Embedding(spec.MaxPositions, spec.Dimensions);
        tokenType = nn.Embedding(spec.TypeVocabularySize, spec.Dimensions);
        norm = nn.LayerNorm(new long[] { spec.Dimensions }, spec.LayerNormEpsilon);
        // BERT's initialisation: N(0, 0.02²) for embeddings and dense weights, zero biases, LayerNorm (1, 0).
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            nn.init.normal_(word.weight!, 0, 0.02);
            nn.init.normal_(position.weight!, 0, 0.02);
            nn.init.normal_(tokenType.weight!, 0, 0.02);
        }
        blocks = new TorchSharp.Modules.ModuleList<BertBlockModule>();
        for (var i = 0; i < spec.Layers; i++)
            blocks.Add(new BertBlockModule(spec, generator));
        register_module("word", word);
        register_module("position", position);
        register_module("tokenType", tokenType);
        register_module("norm", norm);
        register_module("blocks", blocks);
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            foreach (var block in blocks)
                foreach (var (name, parameter) in block.named_parameters())
                {
                    if (name.EndsWith("Norm.weight", StringComparison.Ordinal))
                        continue;
                    if (name.EndsWith(".weight", StringComparison.Ordinal))
                        nn.init.normal_(parameter, 0, 0.02);
                    else if (!name.EndsWith("Norm.bias", StringComparison.Ordinal))
                        nn.init.zeros_(parameter);
                }
        }
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var ids = TokenIds.ToIndices(input, _spec.VocabularySize);
        var pooled = _spec.Pooling != SequencePooling.None;
        if (pooled)
        {
            // Per-batch dynamic padding: nothing after the longest row's last token can change a pooled result.
            var longest = TokenIds.Lengths(ids, _spec.PaddingId, 1).max().item<long>();
            ids = ids.narrow(1, 0, Math.Min(longest, ids.shape[1]));
        }
        var length = ids.shape[1];
        if (length > _spec.MaxPositions)
            throw new ArgumentException($"BertEncoder takes at most {_spec.MaxPositions} token ids per row (its learned positions); received rows of {length}.");
        var keep = ids.ne(_spec.PaddingId);
        var positions = torch.arange(length, dtype: ScalarType.Int64, device: ids.device);
        var types = torch.zeros_like(ids);
        var x = norm.forward(word.forward(ids) + position.forward(positions).unsqueeze(0) + tokenType.forward(types));
        if (training && _spec.Dropout > 0)
            x = SelfAttentionModule.Dropout(x, _spec.Dropout, _generator);
        // BERT's additive mask: 0 for real keys, −10000 for padding keys.
        var keyMask = keep.logical_not().to(x.dtype).mul(-10000f).view(ids.shape[0], 1, 1, length);
        foreach (var block in blocks)
            x = block.forward(x, keyMask);
        Tensor result;
        if (!pooled)
            result = x.mul(keep.unsqueeze(-1).to(x.dtype));
        else
        {
            result = SequencePoolModule.Pool(x, keep, _spec.Pooling);
            if (_spec.Normalize)
                result = nn.functional.normalize(result, p: 2, dim: 1, eps: 1e-12);
        }
        return result.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Two texts' token ids side by side, <c>(2·length)</c> → their cosine similarity <c>(1)</c>: both halves pass the same
/// <see cref="BertEncoderLayer"/> (mean pooling, unit norm), as sentence-transformers' bi-encoder does, so one shared encoder
/// scores a pair. Only <c>TextArchitectures.BertPairEncoder</c> returns it; its parameters are the encoder's, in its order.
/// </summary>
internal sealed class BertPairEncoderLayer : Layer
{
    public BertPairEncoderLayer(BertEncoderLayer encoder) => Encoder = encoder;

    public BertEncoderLayer Encoder { get; }

    public override string ToString() => $"BertPair(cosine of {Encoder})";

    public override int[] InferOutputShape(int[] input, int index)
    {
        if (input.Length != 1 || input[0] % 2 != 0)
            throw ShapeError(index, input, "(2·length) token ids: the first text's ids, then the second's");
        Encoder.InferOutputShape([input[0] / 2], index);
        return [1];
    }

    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new BertPairEncoderModule(Encoder, context.Generator);
}

internal sealed class BertPairEncoderModule : nn.Module<Tensor, Tensor>
{
    private readonly BertEncoderModule encoder;

    public BertPairEncoderModule(BertEncoderLayer spec, Generator generator) : base("BertPair")
    {
        encoder = new BertEncoderModule(spec, generator);
        register_module("encoder", encoder);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var half = input.shape[1] / 2;
        var batch = input.shape[0];
        // One pass over both texts: (2·batch, length) → (2·batch, d), unit rows; cosine = dot product.
        var both = torch.cat([input.narrow(1, 0, half), input.narrow(1, half, half)], 0);
        var embedded = encoder.forward(both);
        var cosine = embedded.narrow(0, 0, batch).mul(embedded.narrow(0, batch, batch)).sum(1, keepdim: true);
        return cosine.MoveToOuterDisposeScope();
    }
}

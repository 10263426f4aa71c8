using System;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text.Classification;

// Layers over token ids that only the text architectures (TextArchitectures) return. They are never serialized
// themselves: a model zip stores the architecture's name and parameters, and the builder recreates them.
//
// Padding contract: rows are right-padded with PaddingId (the tokenizing transforms' policy), and PaddingId never
// stands for a real token. A row's length is its number of non-padding ids.

/// <summary>
/// Token ids <c>(length)</c> → embedding → LSTM or GRU over the real tokens only → final state, or the maximum or
/// mean of the outputs over the real tokens, <c>(hidden·directions)</c>. Each batch is cut to its longest row, then packed with the rows' lengths
/// (<c>pack_padded_sequence</c>), so padding never enters the recurrence: the forward direction's final state is
/// taken after the last real token and the backward direction starts there. An LSTM training on the CPU computes a
/// padded batch the same without packing (<see cref="UnrolledLstm"/>: faster there). A row without tokens (empty text) is read as a single
/// padding token.
/// </summary>
internal sealed class RecurrentTextEncoderLayer : Layer
{
    public RecurrentTextEncoderLayer(RecurrentKind kind, int vocabularySize, int dimensions, int paddingId, int hiddenSize, int layers, bool bidirectional, double dropout,
        TextPooling pooling = TextPooling.LastState)
    {
        Pooling = pooling is TextPooling.LastState or TextPooling.Max or TextPooling.Mean ? pooling
            : throw new ArgumentOutOfRangeException(nameof(pooling), pooling, $"pooling must be LastState, Max or Mean. Received: pooling={pooling}");
        Kind = kind;
        VocabularySize = Guard.Positive(vocabularySize);
        Dimensions = Guard.Positive(dimensions);
        PaddingId = paddingId >= 0 && paddingId < vocabularySize ? paddingId
            : throw new ArgumentOutOfRangeException(nameof(paddingId), paddingId, $"paddingId must be in [0, {vocabularySize}). Received: paddingId={paddingId}");
        HiddenSize = Guard.Positive(hiddenSize);
        Layers = Guard.Positive(layers);
        Bidirectional = bidirectional;
        Dropout = Guard.InRange(dropout, 0, 1);
    }

    public RecurrentKind Kind { get; }
    public int VocabularySize { get; }
    public int Dimensions { get; }
    public int PaddingId { get; }
    public int HiddenSize { get; }
    public int Layers { get; }
    public bool Bidirectional { get; }
    public double Dropout { get; }
    public TextPooling Pooling { get; }

    public override string ToString()
        => $"{(Bidirectional ? "Bi" : "")}{Kind.ToString().ToUpperInvariant()}TextEncoder(vocabulary {VocabularySize}, embedding {Dimensions}, hidden {HiddenSize}, layers {Layers}, padding {PaddingId}, packed, {Pooling} pooling)";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length == 1 ? [HiddenSize * (Bidirectional ? 2 : 1)] : throw new NetworkShapeException(index, this, input, "(length) token ids");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new RecurrentTextEncoderModule(this, context.Generator);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        var length = context.InputShape[0];
        var ids = context.Node("Cast", [context.Input], OnnxAttribute.Int("to", 7));
        var embedded = context.Node("Gather", [context.Initializer("embedding.weight"), ids], OnnxAttribute.Int("axis", 0));
        // Real tokens per row, at least 1 (an empty row reads one padding token), as the packed sequence in training.
        var real = context.Node("Cast", [context.Node("Not", [context.Node("Equal", [ids, context.Int64Constant(PaddingId)])])], OnnxAttribute.Int("to", 1));
        var count = context.Node("Max", [context.Node("Mul", [context.ReduceMean(real, [1], keepDims: false), context.Constant([(float)length])]), context.Constant([1f])]);
        var lengths = context.Node("Cast", [count], OnnxAttribute.Int("to", 6));   // int32 (batch)
        var prefix = Kind == RecurrentKind.Lstm ? "lstm." : "gru.";
        var (sequence, final) = RecurrentOnnx.Lower(context, prefix, Kind, embedded, Dimensions, HiddenSize, Layers, Bidirectional, lengths);
        if (Pooling == TextPooling.LastState)
            return final;
        // Positions before each row's length (right padding): the recurrence's real outputs.
        var positions = context.Constant(Enumerable.Range(0, length).Select(i => (float)i).ToArray(), length);
        var inside = context.Node("Less", [positions, context.ReshapeExamples(count, [1])]);          // (batch, length)
        var width = HiddenSize * (Bidirectional ? 2 : 1);
        if (Pooling == TextPooling.Mean)
        {
            var weights = context.Node("Div", [context.Node("Cast", [inside], OnnxAttribute.Int("to", 1)), context.ReshapeExamples(count, [1])]);
            return context.ReshapeExamples(context.Node("MatMul", [context.ReshapeExamples(weights, [1, length]), sequence]), [width]);
        }
        var masked = context.Node("Where", [context.ReshapeExamples(inside, [length, 1]), sequence, context.Constant([float.NegativeInfinity])]);
        return context.OpsetVersion >= 18
            ? context.Node("ReduceMax", [masked, context.Int64Constant(1)], OnnxAttribute.Int("keepdims", 0))
            : context.Node("ReduceMax", [masked], OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 0));
    }
}

/// <summary>Cuts each batch of token ids <c>(batch, length)</c> to its longest row (per-batch dynamic padding); the declared shape is unchanged.</summary>
internal sealed class TrimPaddingLayer : Layer
{
    public TrimPaddingLayer(int vocabularySize, int paddingId)
    {
        VocabularySize = Guard.Positive(vocabularySize);
        PaddingId = paddingId;
    }

    public int VocabularySize { get; }
    public int PaddingId { get; }

    public override string ToString() => $"TrimPadding(padding {PaddingId})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length == 1 ? Shape.Copy(input) : throw new NetworkShapeException(index, this, input, "(length) token ids");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new TrimPaddingModule(VocabularySize, PaddingId);

    /// <inheritdoc />
    /// <remarks>The identity: the graph keeps the declared length, and the Transformer masks padding exactly.</remarks>
    public override string ToOnnx(OnnxLoweringContext context) => Guard.NotNull(context).Node("Identity", [context.Input]);
}

/// <summary>Puts <see cref="TokenId"/> in front of every row: <c>(length)</c> → <c>(length + 1)</c> (a [CLS] token for tokenizers without one).</summary>
internal sealed class PrependTokenLayer : Layer
{
    public PrependTokenLayer(int tokenId) => TokenId = Guard.NonNegative(tokenId);

    public int TokenId { get; }

    public override string ToString() => $"PrependToken({TokenId})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length == 1 ? [input[0] + 1] : throw new NetworkShapeException(index, this, input, "(length) token ids");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new PrependTokenModule(TokenId);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        // A (batch, 1) column of TokenId built from the input's first column, then concatenated in front.
        var first = context.Node("Slice", [context.Input, context.Int64Constant(0), context.Int64Constant(1), context.Int64Constant(1)]);
        var column = context.Node("Add", [context.Node("Mul", [first, context.Constant([0f])]), context.Constant([(float)TokenId])]);
        return context.Node("Concat", [column, context.Input], OnnxAttribute.Int("axis", 1));
    }
}

/// <summary>Checks that ids are whole numbers in [0, vocabularySize) with a message naming the range, before a native index error.</summary>
internal static class TokenIds
{
    public static Tensor ToIndices(Tensor input, int vocabularySize)
    {
        if (input.dim() != 2)
            throw new ArgumentException($"Token ids must arrive as (batch, length); received a tensor of shape ({string.Join(", ", input.shape)}).");
        var ids = input.to_type(ScalarType.Int64);
        if (ids.numel() > 0)
        {
            var min = ids.min().item<long>();
            var max = ids.max().item<long>();
            if (min < 0 || max >= vocabularySize)
            {
                ids.Dispose();
                throw new ArgumentOutOfRangeException(nameof(input),
                    $"Token ids must be in [0, {vocabularySize}) (the vocabulary size the model was trained with); received ids from {min} to {max}. " +
                    "Tokenize with the same tokenizer as in training, or set VocabularySize to cover every id.");
            }
        }
        return ids;
    }

    /// <summary>Non-padding ids per row (right padding), at least <paramref name="minimum"/>.</summary>
    public static Tensor Lengths(Tensor ids, int paddingId, long minimum)
    {
        using var real = ids.ne(paddingId);
        using var counts = real.sum(1, type: ScalarType.Int64);
        return counts.clamp_min(minimum);
    }
}

internal sealed class TrimPaddingModule : nn.Module<Tensor, Tensor>
{
    private readonly int _vocabularySize;
    private readonly int _paddingId;

    public TrimPaddingModule(int vocabularySize, int paddingId) : base("TrimPadding")
    {
        _vocabularySize = vocabularySize;
        _paddingId = paddingId;
    }

    public override Tensor forward(Tensor input)
    {
        using var ids = TokenIds.ToIndices(input, _vocabularySize);
        using var lengths = TokenIds.Lengths(ids, _paddingId, 1);
        var longest = lengths.max().item<long>();
        using var kept = ids.narrow(1, 0, Math.Min(longest, ids.shape[1]));
        return kept.to_type(input.dtype);
    }
}

internal sealed class PrependTokenModule : nn.Module<Tensor, Tensor>
{
    private readonly int _tokenId;

    public PrependTokenModule(int tokenId) : base("PrependToken") => _tokenId = tokenId;

    public override Tensor forward(Tensor input)
    {
        using var first = torch.full(input.shape[0], 1, _tokenId, dtype: input.dtype, device: input.device);
        return torch.cat([first, input], 1);
    }
}

internal sealed class RecurrentTextEncoderModule : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Embedding embedding;
    private readonly nn.Module<Tensor, Tensor> dropout;
    private readonly TorchSharp.Modules.LSTM? lstm;
    private readonly TorchSharp.Modules.GRU? gru;
    private readonly int _vocabularySize;
    private readonly int _paddingId;
    private readonly int _layers;
    private readonly int _directions;
    private readonly TextPooling _pooling;
    private readonly double _recurrentDropout;

    public RecurrentTextEncoderModule(RecurrentTextEncoderLayer layer, Generator generator) : base("RecurrentTextEncoder")
    {
        embedding = nn.Embedding(layer.VocabularySize, layer.Dimensions);
        dropout = new SeededDropoutModule(layer.Dropout, generator);
        var recurrentDropout = _recurrentDropout = layer.Layers > 1 ? layer.Dropout : 0;
        if (layer.Kind == RecurrentKind.Lstm)
            lstm = nn.LSTM(layer.Dimensions, layer.HiddenSize, layer.Layers, batchFirst: true, dropout: recurrentDropout, bidirectional: layer.Bidirectional);
        else
            gru = nn.GRU(layer.Dimensions, layer.HiddenSize, layer.Layers, batchFirst: true, dropout: recurrentDropout, bidirectional: layer.Bidirectional);
        _vocabularySize = layer.VocabularySize;
        _paddingId = layer.PaddingId;
        _layers = layer.Layers;
        _directions = layer.Bidirectional ? 2 : 1;
        _pooling = layer.Pooling;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var ids = TokenIds.ToIndices(input, _vocabularySize);
        // pack_padded_sequence wants the lengths on the CPU as int64.
        var lengths = TokenIds.Lengths(ids, _paddingId, 1).cpu();
        var longest = lengths.max().item<long>();
        var trimmed = ids.narrow(1, 0, Math.Min(longest, ids.shape[1]));
        var embedded = dropout.forward(embedding.forward(trimmed));
        if (lengths.min().item<long>() == longest)
            return Unpadded(embedded).MoveToOuterDisposeScope();
        Tensor hidden, padded;
        if (lstm is not null && UnrolledLstm.AppliesToPadded(lstm, embedded))
        {
            // Training on the CPU: the unrolled LSTM over the padded batch, each row's state taken at its last real token.
            (padded, hidden) = UnrolledLstm.Forward(lstm, embedded, _layers, _directions == 2, _recurrentDropout, lengths);
        }
        else
        {
            var packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths, batch_first: true, enforce_sorted: false);
            nn.utils.rnn.PackedSequence outputs;
            if (lstm is not null)
                (outputs, hidden, _) = lstm.call(packed);
            else
                (outputs, hidden) = gru!.call(packed);
            packed.Dispose();
            // Outputs back to (batch, longest, hidden·directions) in batch order.
            (padded, _) = nn.utils.rnn.pad_packed_sequence(outputs, batch_first: true, total_length: trimmed.shape[1]);
            outputs.Dispose();
        }
        if (_pooling != TextPooling.LastState)
        {
            // Padding positions masked out.
            var positions = torch.arange(padded.shape[1], device: padded.device).unsqueeze(0);
            var real = positions.lt(lengths.to(padded.device).unsqueeze(1)).unsqueeze(2);
            var pooled = _pooling == TextPooling.Max
                ? padded.masked_fill(real.logical_not(), float.NegativeInfinity).amax([1L])
                : padded.mul(real).sum(1).div(lengths.to(padded.device).unsqueeze(1).to_type(padded.dtype));
            return pooled.MoveToOuterDisposeScope();
        }
        return LastLayerState(hidden).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The batch when no text is padded (every text as long as the longest, e.g. long texts cut at MaxLength): the
    /// recurrence runs on the dense tensor, without packing, which computes the same and costs up to 5× less (issue 15).
    /// </summary>
    private Tensor Unpadded(Tensor embedded)
    {
        Tensor outputs, hidden;
        if (lstm is not null)
            (outputs, hidden) = UnrolledLstm.Run(lstm, embedded, _layers, _directions == 2, _recurrentDropout);
        else
            (outputs, hidden) = gru!.call(embedded);
        return _pooling switch
        {
            TextPooling.Max => outputs.amax([1L]),
            TextPooling.Mean => outputs.mean([1L]),
            _ => LastLayerState(hidden),
        };
    }

    /// <summary>hidden: (layers·directions, batch, size) → the last layer's state, directions side by side.</summary>
    private Tensor LastLayerState(Tensor hidden)
    {
        var batch = hidden.shape[1];
        var last = hidden.view(_layers, _directions, batch, -1)[-1];
        return last.permute(1, 0, 2).reshape(batch, -1);
    }
}

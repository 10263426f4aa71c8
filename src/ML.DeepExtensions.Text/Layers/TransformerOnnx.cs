using System;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text;

/// <summary>
/// ONNX lowerings of the Transformer layers, written from the same modules (TransformerModules.cs) so the graph computes
/// what scoring computes: the keep mask from the ids (composite layer) or from non-zero rows (separate layers), padding
/// keys masked with −∞ before the softmax (the diagonal always visible), padding rows zero on output. The sequence length
/// is the one of the network's input shape (the tokenizer's MaxLength); the batch dimension stays dynamic.
/// Masks travel as float tensors of 0/1: keep (batch, length) and keep3 (batch, length, 1).
/// </summary>
internal static class TransformerOnnx
{
    /// <summary>Token + position embeddings of ids (batch, length), zero rows at padding; returns (x, keep, keep3).</summary>
    public static (string X, string Keep, string Keep3) Embed(OnnxLoweringContext ctx, string prefix, string input, int length, int dimensions, int paddingId, bool learnedPositions, int maxLength)
    {
        var ids = ctx.Node("Cast", [input], OnnxAttribute.Int("to", 7));
        var tokens = ctx.Node("Gather", [ctx.Initializer(prefix + "token.weight"), ids], OnnxAttribute.Int("axis", 0));
        Tensor table;
        if (learnedPositions)
            table = ctx.Weight(prefix + "position.weight").narrow(0, 0, length);
        else
        {
            using var all = TokenEmbeddingModule.Sinusoids(maxLength, dimensions);
            table = all.narrow(0, 0, length).clone();
        }
        string positions;
        using (table)
            positions = ctx.Initializer(prefix + "positions", table);
        var padding = ctx.Node("Equal", [ids, ctx.Int64Constant(paddingId)]);
        var keep = ctx.Node("Cast", [ctx.Node("Not", [padding])], OnnxAttribute.Int("to", 1));
        var keep3 = ctx.ReshapeExamples(keep, [length, 1]);
        var x = ctx.Node("Mul", [ctx.Node("Add", [tokens, positions]), keep3]);
        return (x, keep, keep3);
    }

    /// <summary>The keep masks of a sequence (batch, length, d) whose padding rows are exact zeros.</summary>
    public static (string Keep, string Keep3) KeepFromRows(OnnxLoweringContext ctx, string x, int length, int dimensions)
    {
        var ones = ctx.Constant(Enumerable.Repeat(1f, dimensions).ToArray(), dimensions, 1);
        var mass = ctx.Node("MatMul", [ctx.Node("Abs", [x]), ones]);                                  // (batch, length, 1)
        var keep3 = ctx.Node("Cast", [ctx.Node("Greater", [mass, ctx.Constant([0f])])], OnnxAttribute.Int("to", 1));
        return (ctx.ReshapeExamples(keep3, [length]), keep3);
    }

    /// <summary>One pre-LN block (module keys under <paramref name="prefix"/>): x + attention(norm1(x)), then + mlp(norm2(·)), padding rows zeroed.</summary>
    public static string Block(OnnxLoweringContext ctx, string prefix, string x, string keep, string keep3, int length, int dimensions, int heads, bool causal)
    {
        var headWidth = dimensions / heads;
        var normed = LayerNormLayer.OnnxLayerNorm(ctx, x, ctx.Initializer(prefix + "norm1.weight"), ctx.Initializer(prefix + "norm1.bias"), 1e-5);
        var qkv = Linear(ctx, prefix + "attention.qkv", normed);
        var split = ctx.ReshapeExamples(qkv, [length, 3, heads, headWidth]);
        string Part(int i)
        {
            var slice = ctx.Node("Slice", [split, ctx.Int64Constant(i), ctx.Int64Constant(i + 1), ctx.Int64Constant(2)]);
            return ctx.Node("Transpose", [ctx.ReshapeExamples(slice, [length, heads, headWidth])], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
        }
        var (q, k, v) = (Part(0), Part(1), Part(2));
        var keys = ctx.Node("Transpose", [k], OnnxAttribute.Ints("perm", 0, 1, 3, 2));
        var scores = ctx.Node("Mul", [ctx.Node("MatMul", [q, keys]), ctx.Constant([(float)(1.0 / Math.Sqrt(headWidth))])]);

        // allowed[i, j] = (keep[j] · visible[i, j]) max eye[i, j]; visible is the causal triangle or all ones.
        var visible = new float[length * length];
        var eye = new float[length * length];
        for (var i = 0; i < length; i++)
        {
            eye[i * length + i] = 1;
            for (var j = 0; j < length; j++)
                visible[i * length + j] = !causal || j <= i ? 1 : 0;
        }
        var keys4 = ctx.ReshapeExamples(keep, [1, 1, length]);
        var allowed = ctx.Node("Max", [ctx.Node("Mul", [keys4, ctx.Constant(visible, length, length)]), ctx.Constant(eye, length, length)]);
        var mask = ctx.Node("Greater", [allowed, ctx.Constant([0.5f])]);
        var masked = ctx.Node("Where", [mask, scores, ctx.Constant([float.NegativeInfinity])]);
        var weights = ctx.Node("Softmax", [masked], OnnxAttribute.Int("axis", -1));
        var mixed = ctx.Node("Transpose", [ctx.Node("MatMul", [weights, v])], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
        var attention = Linear(ctx, prefix + "attention.output", ctx.ReshapeExamples(mixed, [length, dimensions]));
        var h = ctx.Node("Add", [x, attention]);

        var normed2 = LayerNormLayer.OnnxLayerNorm(ctx, h, ctx.Initializer(prefix + "norm2.weight"), ctx.Initializer(prefix + "norm2.bias"), 1e-5);
        var hidden = ctx.Activation(ActivationKind.GELU, Linear(ctx, prefix + "mlp.0", normed2));
        var h2 = ctx.Node("Add", [h, Linear(ctx, prefix + "mlp.2", hidden)]);
        return ctx.Node("Mul", [h2, keep3]);
    }

    /// <summary>First / mean / last over kept positions of x (batch, length, d) → (batch, d); rows without tokens give zeros.</summary>
    public static string Pool(OnnxLoweringContext ctx, string x, string keep, int length, int dimensions, SequencePooling pooling)
    {
        var count = ctx.Node("Mul", [ctx.ReduceMean(keep, [1], keepDims: true), ctx.Constant([(float)length])]);   // (batch, 1)
        string weights;   // (batch, length): how much each position contributes
        switch (pooling)
        {
            case SequencePooling.First:
                weights = ctx.Node("Mul", [keep, ctx.Constant(Enumerable.Range(0, length).Select(i => i == 0 ? 1f : 0f).ToArray(), length)]);
                break;
            case SequencePooling.Mean:
                weights = ctx.Node("Div", [keep, ctx.Node("Max", [count, ctx.Constant([1f])])]);
                break;
            default:
                // One-hot at count − 1 (right padding); a row without tokens matches no position.
                var last = ctx.Node("Sub", [count, ctx.Constant([1f])]);
                var positions = ctx.Constant(Enumerable.Range(0, length).Select(i => (float)i).ToArray(), length);
                weights = ctx.Node("Cast", [ctx.Node("Equal", [ctx.Node("Cast", [positions], OnnxAttribute.Int("to", 7)), ctx.Node("Cast", [last], OnnxAttribute.Int("to", 7))])], OnnxAttribute.Int("to", 1));
                break;
        }
        var pooled = ctx.Node("MatMul", [ctx.ReshapeExamples(weights, [1, length]), x]);   // (batch, 1, d)
        return ctx.ReshapeExamples(pooled, [dimensions]);
    }

    private static string Linear(OnnxLoweringContext ctx, string prefix, string input)
    {
        using var transposed = ctx.Weight(prefix + ".weight").t();
        return ctx.Node("Add", [ctx.Node("MatMul", [input, ctx.Initializer(prefix + ".weight_t", transposed)]), ctx.Initializer(prefix + ".bias")]);
    }
}

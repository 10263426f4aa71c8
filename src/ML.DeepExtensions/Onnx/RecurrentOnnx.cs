using System.Linq;
using ML.DeepExtensions.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Onnx;

/// <summary>
/// Stacked, optionally bidirectional LSTM/GRU as ONNX <c>LSTM</c>/<c>GRU</c> nodes, one per layer, from TorchSharp's
/// weights (<c>weight_ih_l{k}[_reverse]</c>, …). Gates are reordered (PyTorch LSTM i,f,g,o → ONNX i,o,f,c; GRU r,z,n →
/// ONNX z,r,h with <c>linear_before_reset=1</c>, PyTorch's formulation). Layout 0 (time first) with transposes around it,
/// so opset 11 works. Optional <c>sequence_lens</c> (int32, batch) makes each row stop at its own length, as PyTorch's
/// packed sequences do.
/// </summary>
internal static class RecurrentOnnx
{
    /// <summary>Returns the last layer's outputs (batch, length, directions·hidden; zeros past a row's length) and
    /// its final states (batch, directions·hidden).</summary>
    public static (string Sequence, string Final) Lower(OnnxLoweringContext ctx, string prefix, RecurrentKind kind, string input, int inputSize, int hidden, int layers, bool bidirectional, string sequenceLengths = "")
    {
        var directions = bidirectional ? 2 : 1;
        int[] order = kind == RecurrentKind.Lstm ? [0, 3, 1, 2] : [1, 0, 2];
        var x = ctx.Node("Transpose", [input], OnnxAttribute.Ints("perm", 1, 0, 2));                  // (length, batch, features)
        string y = x, yh = "";
        for (var layer = 0; layer < layers; layer++)
        {
            var suffixes = bidirectional ? new[] { $"_l{layer}", $"_l{layer}_reverse" } : [$"_l{layer}"];
            var w = Stack(ctx, prefix, "weight_ih", suffixes, order, $"W_l{layer}");
            var r = Stack(ctx, prefix, "weight_hh", suffixes, order, $"R_l{layer}");
            string b;
            using (var scope = torch.NewDisposeScope())
            {
                var biases = suffixes.Select(s => torch.cat([Reorder(ctx.Weight($"{prefix}bias_ih{s}"), order), Reorder(ctx.Weight($"{prefix}bias_hh{s}"), order)], 0)).ToArray();
                b = ctx.Initializer($"B_l{layer}", torch.stack(biases, 0));
            }
            var attributes = new[]
            {
                OnnxAttribute.Int("hidden_size", hidden),
                OnnxAttribute.String("direction", bidirectional ? "bidirectional" : "forward"),
            };
            if (kind == RecurrentKind.Gru)
                attributes = [.. attributes, OnnxAttribute.Int("linear_before_reset", 1)];
            var outputs = ctx.Node(kind == RecurrentKind.Lstm ? "LSTM" : "GRU", [y, w, r, b, sequenceLengths], kind == RecurrentKind.Lstm ? 3 : 2, attributes);
            // Y (length, directions, batch, hidden) → (length, batch, directions·hidden) for the next layer.
            var merged = ctx.Node("Transpose", [outputs[0]], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
            y = ctx.Node("Reshape", [merged, ctx.Int64Constant(0, 0, directions * hidden)]);
            yh = outputs[1];
        }
        var sequence = ctx.Node("Transpose", [y], OnnxAttribute.Ints("perm", 1, 0, 2));
        var final = ctx.Node("Reshape", [ctx.Node("Transpose", [yh], OnnxAttribute.Ints("perm", 1, 0, 2)), ctx.Int64Constant(0, directions * hidden)]);
        return (sequence, final);
    }

    private static string Stack(OnnxLoweringContext ctx, string prefix, string name, string[] suffixes, int[] order, string initializer)
    {
        using var scope = torch.NewDisposeScope();
        return ctx.Initializer(initializer, torch.stack(suffixes.Select(s => Reorder(ctx.Weight($"{prefix}{name}{s}"), order)).ToArray(), 0));
    }

    /// <summary>The gate blocks of a (gates·hidden, …) tensor in ONNX's order.</summary>
    private static Tensor Reorder(Tensor weight, int[] order)
    {
        var gates = weight.chunk(order.Length, 0);
        return torch.cat(order.Select(i => gates[i]).ToArray(), 0);
    }
}

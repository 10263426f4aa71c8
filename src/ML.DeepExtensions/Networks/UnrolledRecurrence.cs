using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// An <c>nn.LSTM</c>'s or <c>nn.GRU</c>'s training forward pass computed step by step from the module's own parameters, the
/// way libtorch's native CPU kernel does: each layer's input projections for all steps in one matmul, then per step one
/// <c>addmm</c> and the gate arithmetic. Results agree with the module's own within float rounding (tests compare outputs,
/// final states and gradients).
/// </summary>
/// <remarks>
/// <para>Why: for a dense float LSTM, libtorch 2.10 trains through oneDNN's RNN primitive, whose backward pass made training
/// 2–2.5× slower on the CPUs measured (issue 15: Embedding + 2×LSTM(256), seq 128, b32, 31–37 samples/s through oneDNN,
/// 62–82 unrolled at one thread; 51–54 vs 82–97 at two). Scoring keeps the module: in no-grad passes oneDNN is the faster
/// one. And for padded batches, libtorch's packed-sequence kernel (LSTM and GRU) trained about half as fast as the dense
/// one (LSTM 36–42 samples/s packed).</para>
/// <para>Rows may be shorter than the batch (<c>lengths</c>): each row's real steps come first; the forward direction's
/// state after a row's last real step is its final state, and the reverse direction runs over each row's real steps
/// reversed (padding kept at the end), so padding never enters a real step's result — what <c>pack_padded_sequence</c>
/// gives, without packing. Outputs at padding positions are not defined; callers mask them. Initial states are zeros, as
/// the callers' are.</para>
/// </remarks>
internal static class UnrolledRecurrence
{
    /// <summary>On unless the benchmarks' <c>--module-rnn</c> A/B turns it off for their process.</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>
    /// True when <see cref="Forward"/> should replace <paramref name="module"/>'s own forward pass (an LSTM or GRU) for
    /// <paramref name="input"/>: a training pass recording gradients, on the CPU, in float32.
    /// </summary>
    public static bool Applies(nn.Module module, Tensor input)
        => Enabled && module.training && torch.is_grad_enabled() && input.device_type == DeviceType.CPU && input.dtype == ScalarType.Float32;

    /// <summary>
    /// The forward pass of <paramref name="module"/> (an <c>nn.LSTM</c> or <c>nn.GRU</c>, batch-first, biases on) over
    /// <paramref name="input"/> (batch, steps, features): outputs (batch, steps, directions·hidden) and final hidden states
    /// (layers·directions, batch, hidden), as the module returns them.
    /// </summary>
    /// <param name="module">The LSTM or GRU whose parameters are used.</param>
    /// <param name="input">Batch-first input.</param>
    /// <param name="layers">Stacked layers.</param>
    /// <param name="bidirectional">Whether a reverse direction runs too.</param>
    /// <param name="dropout">Dropout probability on the outputs of every layer but the last (training only, as the module's).</param>
    /// <param name="lengths">Real steps per row (CPU, int64), or null when every row is real to the end.</param>
    public static (Tensor Output, Tensor Hidden) Forward(nn.Module module, Tensor input, int layers, bool bidirectional, double dropout, Tensor? lengths = null)
    {
        var lstm = module switch
        {
            TorchSharp.Modules.LSTM => true,
            TorchSharp.Modules.GRU => false,
            _ => throw new ArgumentException($"Expected an LSTM or GRU module. Received: {module.GetType().Name}.", nameof(module)),
        };
        using var scope = torch.NewDisposeScope();
        var parameters = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in module.named_parameters())
            parameters[name] = parameter;
        var (batch, steps) = (input.shape[0], input.shape[1]);
        // Per row, the index of its last real step, and the row-local reversal of its real steps (padding stays put).
        Tensor? last = null, reversal = null;
        if (lengths is not null)
        {
            last = (lengths - 1).to(input.device).view(batch, 1, 1);
            var positions = torch.arange(steps, device: input.device).unsqueeze(0);
            var rowLengths = lengths.to(input.device).unsqueeze(1);
            reversal = torch.where(positions.lt(rowLengths), rowLengths - 1 - positions, positions).unsqueeze(2);
        }

        var layerInput = input;
        var finals = new List<Tensor>();
        for (var layer = 0; layer < layers; layer++)
        {
            var directions = new List<Tensor>();
            foreach (var suffix in bidirectional ? new[] { "", "_reverse" } : [""])
            {
                var reverse = suffix.Length > 0;
                Tensor Parameter(string kind) => parameters[$"{kind}_l{layer}{suffix}"];
                var x = !reverse ? layerInput
                    : reversal is null ? layerInput.flip(1)
                    : layerInput.gather(1, reversal.expand(batch, steps, layerInput.shape[2]));
                var weights = (Parameter("weight_ih"), Parameter("weight_hh"), Parameter("bias_ih"), Parameter("bias_hh"));
                var outputs = lstm ? LstmDirection(x, weights) : GruDirection(x, weights);
                var hiddenSize = outputs.shape[2];
                finals.Add(last is null ? outputs.select(1, steps - 1) : outputs.gather(1, last.expand(batch, 1, hiddenSize)).squeeze(1));
                directions.Add(!reverse ? outputs
                    : reversal is null ? outputs.flip(1)
                    : outputs.gather(1, reversal.expand(batch, steps, hiddenSize)));
            }
            layerInput = directions.Count == 1 ? directions[0] : torch.cat(directions, 2);
            if (layer < layers - 1 && dropout > 0)
                layerInput = nn.functional.dropout(layerInput, dropout, training: true);
        }
        var hidden = torch.stack(finals, 0);
        return (layerInput.MoveToOuterDisposeScope(), hidden.MoveToOuterDisposeScope());
    }

    /// <summary>One LSTM direction of one layer over x (batch, steps, features): the hidden state after every step.</summary>
    private static Tensor LstmDirection(Tensor x, (Tensor Ih, Tensor Hh, Tensor BiasIh, Tensor BiasHh) weights)
    {
        var hiddenSize = weights.Hh.shape[1];
        var batch = x.shape[0];
        // All steps' input projections at once; unbind (not select) so that backward stacks the step gradients in one op
        // (select made backward zero-fill the whole projection tensor at every step).
        var stepInputs = nn.functional.linear(x, weights.Ih, weights.BiasIh).add_(weights.BiasHh).unbind(1);
        var recurrent = weights.Hh.t();
        var h = torch.zeros(batch, hiddenSize, dtype: x.dtype, device: x.device);
        var c = torch.zeros(batch, hiddenSize, dtype: x.dtype, device: x.device);
        var outputs = new Tensor[stepInputs.Length];
        for (var t = 0; t < stepInputs.Length; t++)
        {
            // Gate order i, f, g, o (PyTorch's); one sigmoid over all four, tanh for g.
            var gates = stepInputs[t].addmm(h, recurrent);
            var sigmoid = gates.sigmoid();
            var input = sigmoid.narrow(1, 0, hiddenSize);
            var forget = sigmoid.narrow(1, hiddenSize, hiddenSize);
            var output = sigmoid.narrow(1, 3 * hiddenSize, hiddenSize);
            var cell = gates.narrow(1, 2 * hiddenSize, hiddenSize).tanh();
            c = (forget * c).add_(input * cell);
            h = output * c.tanh();
            outputs[t] = h;
        }
        return torch.stack(outputs, 1);
    }

    /// <summary>One GRU direction of one layer over x (batch, steps, features): the hidden state after every step.</summary>
    private static Tensor GruDirection(Tensor x, (Tensor Ih, Tensor Hh, Tensor BiasIh, Tensor BiasHh) weights)
    {
        var hiddenSize = weights.Hh.shape[1];
        var batch = x.shape[0];
        var stepInputs = nn.functional.linear(x, weights.Ih, weights.BiasIh).unbind(1);
        var recurrent = weights.Hh.t();
        var h = torch.zeros(batch, hiddenSize, dtype: x.dtype, device: x.device);
        var outputs = new Tensor[stepInputs.Length];
        for (var t = 0; t < stepInputs.Length; t++)
        {
            // Gate order r, z, n (PyTorch's): r and z from the sums of both projections, n = tanh(in + r · hn),
            // h = (1 − z) · n + z · h.
            var projected = weights.BiasHh.addmm(h, recurrent);
            var stepInput = stepInputs[t];
            var resetUpdate = (stepInput.narrow(1, 0, 2 * hiddenSize) + projected.narrow(1, 0, 2 * hiddenSize)).sigmoid();
            var reset = resetUpdate.narrow(1, 0, hiddenSize);
            var update = resetUpdate.narrow(1, hiddenSize, hiddenSize);
            var candidate = (stepInput.narrow(1, 2 * hiddenSize, hiddenSize) + reset * projected.narrow(1, 2 * hiddenSize, hiddenSize)).tanh();
            h = candidate + update * (h - candidate);
            outputs[t] = h;
        }
        return torch.stack(outputs, 1);
    }
}

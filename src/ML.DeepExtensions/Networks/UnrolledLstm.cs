using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics.X86;
using ML.DeepExtensions.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>
/// An <c>nn.LSTM</c>'s training forward pass computed step by step from its own parameters, the way libtorch's native CPU
/// kernel does (each layer's input projections for all steps in one matmul, then per step one <c>addmm</c> and the gate
/// arithmetic). Results agree with <c>nn.LSTM</c> within float rounding (tests compare outputs, final states and gradients).
/// Used on the CPU when gradients are recorded:
/// <list type="bullet">
/// <item>for dense input (every row real to the end) only where libtorch 2.10's oneDNN RNN primitive was measured the
/// slower one (<see cref="PreferredForDenseInput(bool, bool, string)"/>). Issue 15, Embedding + 2×LSTM(256), seq 128,
/// b32, one thread, samples/s: on an AMD Zen 5 the primitive trained at 31–37 capped at AVX and 44–46 at AVX-512, against
/// 62–82 unrolled; on an AMD Zen 4 at 80–90 at AVX-512 and 73–82 at AVX2, against 61–71 and 64–78 unrolled (PyTorch
/// 68–84 in the same runs);</item>
/// <item>for the text encoders' padded batches (<see cref="Forward"/> with lengths) always, in place of
/// <c>pack_padded_sequence</c> and the packed kernel: 1.10–1.38× its speed in five of six configurations measured on
/// Zen 4, 0.94× in one (the benchmarks' <c>--padded-lstm</c>; 36–42 packed against 62–82 unrolled on Zen 5).</item>
/// </list>
/// Scoring keeps <c>nn.LSTM</c>: in no-grad passes oneDNN is the faster one.
/// </summary>
/// <remarks>
/// Rows may be shorter than the batch (<c>lengths</c>): each row's real steps come first; the forward direction's state
/// after a row's last real step is its final state, and the reverse direction runs over each row's real steps reversed
/// (padding kept at the end), so padding never enters a real step's result — what <c>pack_padded_sequence</c> gives,
/// without packing (at hidden size 32 the two were equal, and a GRU, which has no oneDNN path, was faster packed, so GRUs
/// keep the module's own pass). Outputs at padding positions are not defined; callers mask them. Initial states are
/// zeros, as the callers' are.
/// </remarks>
internal static class UnrolledLstm
{
    /// <summary>The calling flow's override: true always unrolls, false never, null decides (<see cref="Force"/>).</summary>
    private static readonly FlowOverride<bool> Forced = new();

    /// <summary>
    /// Overrides the choice for the calling flow (and the tasks and threads it starts) until disposed: true unrolls every
    /// training pass on the CPU, false leaves every one to <c>nn.LSTM</c> (oneDNN on dense input, the packed kernel on
    /// padded text), null restores the default. For the parity tests and the benchmarks' <c>--onednn-lstm</c> /
    /// <c>--unrolled-lstm</c> A/B.
    /// </summary>
    internal static IDisposable Force(bool? unrolled) => Forced.Set(unrolled);

    /// <summary>
    /// Whether the unrolled pass replaces oneDNN's primitive for dense input by default: on a CPU without AVX2
    /// (<paramref name="avx2"/> false), under an ISA <paramref name="ceiling"/> below AVX2 (<c>AVX</c>, <c>SSE41</c>), and on
    /// the CPUs <see cref="OneDnnIsaCap"/> caps (<paramref name="cappedCpu"/>) whatever their ceiling. libtorch 2.10's oneDNN
    /// trains an LSTM with its reference RNN implementation (<c>ONEDNN_VERBOSE</c>: <c>rnn,ref,forward_training</c> and
    /// <c>backward</c> at every level; <c>brgemm</c> only for inference), whose speed is its matrix products': fast from
    /// AVX2 (with FMA) on, slow at AVX.
    /// </summary>
    internal static bool PreferredForDenseInput(bool avx2, bool cappedCpu, string? ceiling)
        => !avx2 || cappedCpu || ceiling?.Trim().ToUpperInvariant() is "AVX" or "SSE41";

    /// <summary>The default for dense input in this process, from the CPU and <see cref="OneDnnIsaCap"/>.</summary>
    internal static bool PreferredForDenseInput() => PreferredForDenseInput(Avx2.IsSupported, OneDnnIsaCap.CappedCpu, OneDnnIsaCap.Ceiling);

    /// <summary>True when <see cref="Forward"/> should replace <paramref name="lstm"/>'s own forward pass for dense <paramref name="input"/>.</summary>
    public static bool Applies(TorchSharp.Modules.LSTM lstm, Tensor input)
        => IsCpuTrainingPass(lstm, input) && (Forced.Value ?? PreferredForDenseInput());

    /// <summary>True when <see cref="Forward"/> with lengths should replace packing for <paramref name="lstm"/> over padded <paramref name="input"/>.</summary>
    public static bool AppliesToPadded(TorchSharp.Modules.LSTM lstm, Tensor input)
        => IsCpuTrainingPass(lstm, input) && (Forced.Value ?? true);

    private static bool IsCpuTrainingPass(TorchSharp.Modules.LSTM lstm, Tensor input)
        => lstm.training && torch.is_grad_enabled() && input.device_type == DeviceType.CPU && input.dtype == ScalarType.Float32;

    /// <summary>
    /// <paramref name="lstm"/> over <paramref name="input"/> (batch, steps, features), every row real to the end: unrolled
    /// when <see cref="Applies"/>, else the module's own pass (its cell state disposed). Returns outputs and final hidden
    /// states as <see cref="Forward"/> does.
    /// </summary>
    public static (Tensor Output, Tensor Hidden) Run(TorchSharp.Modules.LSTM lstm, Tensor input, int layers, bool bidirectional, double dropout)
    {
        if (Applies(lstm, input))
            return Forward(lstm, input, layers, bidirectional, dropout);
        var (output, hidden, cell) = lstm.call(input);
        cell.Dispose();
        return (output, hidden);
    }

    /// <summary>
    /// The forward pass of <paramref name="lstm"/> (batch-first, biases on) over <paramref name="input"/> (batch, steps,
    /// features): outputs (batch, steps, directions·hidden) and final hidden states (layers·directions, batch, hidden), as
    /// <c>nn.LSTM</c> returns them.
    /// </summary>
    /// <param name="lstm">The module whose parameters are used.</param>
    /// <param name="input">Batch-first input.</param>
    /// <param name="layers">Stacked layers.</param>
    /// <param name="bidirectional">Whether a reverse direction runs too.</param>
    /// <param name="dropout">Dropout probability on the outputs of every layer but the last (training only, as nn.LSTM).</param>
    /// <param name="lengths">Real steps per row (CPU, int64), or null when every row is real to the end.</param>
    public static (Tensor Output, Tensor Hidden) Forward(TorchSharp.Modules.LSTM lstm, Tensor input, int layers, bool bidirectional, double dropout, Tensor? lengths = null)
    {
        using var scope = torch.NewDisposeScope();
        var parameters = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in lstm.named_parameters())
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
                var (outputs, final) = Direction(x, Parameter("weight_ih"), Parameter("weight_hh"), Parameter("bias_ih"), Parameter("bias_hh"), last);
                finals.Add(final);
                directions.Add(!reverse ? outputs
                    : reversal is null ? outputs.flip(1)
                    : outputs.gather(1, reversal.expand(batch, steps, outputs.shape[2])));
            }
            layerInput = directions.Count == 1 ? directions[0] : torch.cat(directions, 2);
            if (layer < layers - 1 && dropout > 0)
                layerInput = nn.functional.dropout(layerInput, dropout, training: true);
        }
        var hidden = torch.stack(finals, 0);
        return (layerInput.MoveToOuterDisposeScope(), hidden.MoveToOuterDisposeScope());
    }

    /// <summary>One direction of one layer over x (batch, steps, features): its outputs and the state after each row's last real step.</summary>
    private static (Tensor Outputs, Tensor Final) Direction(Tensor x, Tensor weightIh, Tensor weightHh, Tensor biasIh, Tensor biasHh, Tensor? last)
    {
        var hiddenSize = weightHh.shape[1];
        var batch = x.shape[0];
        // All steps' input projections at once; unbind (not select) so that backward stacks the step gradients in one op.
        var projected = nn.functional.linear(x, weightIh, biasIh).add_(biasHh);
        var stepInputs = projected.unbind(1);
        var recurrent = weightHh.t();
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
        var stacked = torch.stack(outputs, 1);
        var final = last is null ? h : stacked.gather(1, last.expand(batch, 1, hiddenSize)).squeeze(1);
        return (stacked, final);
    }
}

using System;
using System.Linq;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Networks;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks;

/// <summary>
/// <see cref="UnrolledLstm"/> (the LSTM's training pass on the CPU where oneDNN's is the slower one) against <c>nn.LSTM</c>
/// on the same weights: outputs, final states and gradients, for every shape of the Lstm layer, with the unrolled pass
/// forced so that it is compared on every CPU. The text encoders' padded batches are compared with the packed module in
/// the text tests.
/// </summary>
public sealed class UnrolledLstmTests
{
    [Theory]
    [InlineData(1, false, false)]
    [InlineData(2, false, false)]
    [InlineData(1, true, false)]
    [InlineData(2, true, true)]
    [InlineData(3, false, true)]
    public void LstmLayer_TrainingPass_MatchesNnLstm(int layers, bool bidirectional, bool returnSequences)
    {
        var network = Network.Create().Lstm(6, layers, bidirectional, returnSequences);
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        var module = network.Build([7, 4], new BuildContext(new Generator(5)));
        var x = torch.randn(3, 7, 4);
        var lstm = module.modules().OfType<TorchSharp.Modules.LSTM>().Single();
        using var unrolledOnEveryCpu = UnrolledLstm.Force(true);

        (Tensor Output, Tensor[] Gradients) Pass(bool training)
        {
            if (training) module.train(); else module.eval();
            module.zero_grad();
            Assert.Equal(training, UnrolledLstm.Applies(lstm, x));
            var y = module.forward(x);
            y.pow(2).sum().backward();
            return (y.detach(), module.parameters().Select(p => p.grad!.clone()).ToArray());
        }

        var (unrolled, unrolledGradients) = Pass(training: true);
        var (reference, referenceGradients) = Pass(training: false);
        Assert.Equal(reference.shape, unrolled.shape);
        Assert.True(reference.abs().max().item<float>() > 0);
        Assert.True(unrolled.allclose(reference, rtol: 1e-5, atol: 1e-6), $"outputs differ by {(unrolled - reference).abs().max().item<float>():G3}");
        Assert.Equal(referenceGradients.Length, unrolledGradients.Length);
        for (var i = 0; i < referenceGradients.Length; i++)
        {
            Assert.True(referenceGradients[i].abs().max().item<float>() > 0, $"parameter {i} has no gradient");
            Assert.True(unrolledGradients[i].allclose(referenceGradients[i], rtol: 1e-4, atol: 1e-5),
                $"gradient {i} differs by {(unrolledGradients[i] - referenceGradients[i]).abs().max().item<float>():G3}");
        }
    }

    [Fact]
    public void Applies_OnlyToTrainingPassesThatRecordGradients()
    {
        using var scope = torch.NewDisposeScope();
        var lstm = nn.LSTM(4, 6, 1, batchFirst: true);
        var x = torch.randn(2, 3, 4);
        lstm.train();
        using var unrolled = UnrolledLstm.Force(true);
        Assert.True(UnrolledLstm.Applies(lstm, x));
        Assert.True(UnrolledLstm.AppliesToPadded(lstm, x));
        using (torch.no_grad())
        {
            Assert.False(UnrolledLstm.Applies(lstm, x));
            Assert.False(UnrolledLstm.AppliesToPadded(lstm, x));
        }
        Assert.False(UnrolledLstm.Applies(lstm, x.to(ScalarType.Float64)));
        lstm.eval();
        Assert.False(UnrolledLstm.Applies(lstm, x));
        Assert.False(UnrolledLstm.AppliesToPadded(lstm, x));
    }

    [Theory]
    [InlineData(false, false, null, true)]          // no AVX2: oneDNN's reference RNN runs on slow products
    [InlineData(false, false, "ALL", true)]
    [InlineData(true, false, null, false)]          // AVX2 or better, no ceiling: oneDNN
    [InlineData(true, false, "AVX", true)]          // a ceiling below AVX2
    [InlineData(true, false, " sse41 ", true)]
    [InlineData(true, false, "AVX2", false)]
    [InlineData(true, false, "avx512_core_bf16", false)]
    [InlineData(true, false, "ALL", false)]
    [InlineData(true, true, null, true)]            // the capped CPUs (Zen 5): oneDNN's LSTM measured slower at every level
    [InlineData(true, true, "AVX512_CORE", true)]
    public void DenseInput_IsUnrolled_WhereOneDnnsLstmWasMeasuredSlower(bool avx2, bool cappedCpu, string? ceiling, bool unrolled)
        => Assert.Equal(unrolled, UnrolledLstm.PreferredForDenseInput(avx2, cappedCpu, ceiling));

    [Fact]
    public void Default_FollowsTheOneDnnCeiling_PaddedBatchesAlwaysUnrolled_ForceIsFlowLocal()
    {
        TorchRuntime.EnsureInitialized();
        using var scope = torch.NewDisposeScope();
        var lstm = nn.LSTM(4, 6, 1, batchFirst: true);
        var x = torch.randn(2, 3, 4);
        lstm.train();
        using (UnrolledLstm.Force(null))
        {
            Assert.Equal(UnrolledLstm.PreferredForDenseInput(), UnrolledLstm.Applies(lstm, x));
            Assert.True(UnrolledLstm.AppliesToPadded(lstm, x));
            using (UnrolledLstm.Force(false))
            {
                Assert.False(UnrolledLstm.Applies(lstm, x));
                Assert.False(UnrolledLstm.AppliesToPadded(lstm, x));
                // A flow that did not inherit this one's context (another test running beside it) keeps the default.
                var elsewhere = false;
                var thread = new System.Threading.Thread(() => elsewhere = UnrolledLstm.AppliesToPadded(lstm, x));
                thread.UnsafeStart(); // without this flow's execution context
                thread.Join();
                Assert.True(elsewhere);
            }
            Assert.True(UnrolledLstm.AppliesToPadded(lstm, x));
        }
    }

    [Fact]
    public void Dropout_BetweenLayers_IsAppliedInTraining()
    {
        // nn.LSTM drops the outputs of every layer but the last while training; so must the unrolled pass.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        var lstm = nn.LSTM(4, 6, 2, batchFirst: true, dropout: 0.5);
        lstm.train();
        var x = torch.randn(2, 5, 4);
        var (withDropout, _) = UnrolledLstm.Forward(lstm, x, layers: 2, bidirectional: false, dropout: 0.5);
        var (without, _) = UnrolledLstm.Forward(lstm, x, layers: 2, bidirectional: false, dropout: 0);
        Assert.False(withDropout.allclose(without), "dropout 0.5 between the layers changed nothing");
    }
}

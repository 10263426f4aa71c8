using System;
using System.Linq;
using ML.DeepExtensions.Networks;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks;

/// <summary>
/// <see cref="UnrolledRecurrence"/> (LSTM and GRU training passes on the CPU) against the modules' own passes on the same
/// weights: outputs, final states and gradients — for the Lstm layer in every shape, and for LSTM and GRU modules on padded
/// batches against the packed module. The text encoders are compared with their packed path in the text tests.
/// </summary>
public sealed class UnrolledRecurrenceTests
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

        (Tensor Output, Tensor[] Gradients) Pass(bool training)
        {
            if (training) module.train(); else module.eval();
            module.zero_grad();
            Assert.Equal(training, UnrolledRecurrence.Applies(lstm, x));
            var y = module.forward(x);
            y.pow(2).sum().backward();
            return (y.detach(), module.parameters().Select(p => p.grad!.clone()).ToArray());
        }

        var (unrolled, unrolledGradients) = Pass(training: true);
        var (reference, referenceGradients) = Pass(training: false);
        AssertClose(reference, unrolled, "output");
        AssertGradientsClose(referenceGradients, unrolledGradients);
    }

    [Theory]
    [InlineData("lstm", 1, false)]
    [InlineData("lstm", 2, true)]
    [InlineData("gru", 1, false)]
    [InlineData("gru", 2, true)]
    public void PaddedBatch_MatchesThePackedModule(string kind, int layers, bool bidirectional)
    {
        // Rows of 5, 2, 7 and 1 real steps in a batch of 7: the unrolled pass over the padded tensor against the module on
        // the packed batch — outputs at real steps, final states, and the gradients of a loss on both.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(7);
        nn.Module module = kind == "lstm"
            ? nn.LSTM(4, 5, layers, batchFirst: true, bidirectional: bidirectional)
            : nn.GRU(4, 5, layers, batchFirst: true, bidirectional: bidirectional);
        var lengths = torch.tensor(new long[] { 5, 2, 7, 1 });
        var x = torch.randn(4, 7, 4);
        var real = torch.arange(7).unsqueeze(0).lt(lengths.unsqueeze(1)).unsqueeze(2);

        (Tensor Output, Tensor Hidden, Tensor[] Gradients) Unrolled()
        {
            module.zero_grad();
            var (output, hidden) = UnrolledRecurrence.Forward(module, x, layers, bidirectional, dropout: 0, lengths);
            return Finish(output.mul(real), hidden);
        }

        (Tensor Output, Tensor Hidden, Tensor[] Gradients) Packed()
        {
            module.zero_grad();
            var packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first: true, enforce_sorted: false);
            nn.utils.rnn.PackedSequence outputs;
            Tensor hidden;
            if (module is TorchSharp.Modules.LSTM lstm)
                (outputs, hidden, _) = lstm.call(packed);
            else
                (outputs, hidden) = ((TorchSharp.Modules.GRU)module).call(packed);
            var (output, _) = nn.utils.rnn.pad_packed_sequence(outputs, batch_first: true, total_length: 7);
            return Finish(output, hidden);
        }

        (Tensor, Tensor, Tensor[]) Finish(Tensor output, Tensor hidden)
        {
            (output.pow(2).sum() + hidden.pow(3).sum()).backward();
            return (output.detach(), hidden.detach(), module.parameters().Select(p => p.grad!.clone()).ToArray());
        }

        module.train();
        var unrolled = Unrolled();
        var reference = Packed();
        AssertClose(reference.Output, unrolled.Output, "outputs at real steps");
        AssertClose(reference.Hidden, unrolled.Hidden, "final states");
        AssertGradientsClose(reference.Gradients, unrolled.Gradients);
    }

    [Fact]
    public void Applies_OnlyToTrainingPassesThatRecordGradients()
    {
        using var scope = torch.NewDisposeScope();
        var lstm = nn.LSTM(4, 6, 1, batchFirst: true);
        var x = torch.randn(2, 3, 4);
        lstm.train();
        Assert.True(UnrolledRecurrence.Applies(lstm, x));
        using (torch.no_grad())
            Assert.False(UnrolledRecurrence.Applies(lstm, x));
        Assert.False(UnrolledRecurrence.Applies(lstm, x.to(ScalarType.Float64)));
        lstm.eval();
        Assert.False(UnrolledRecurrence.Applies(lstm, x));
    }

    [Fact]
    public void Dropout_BetweenLayers_IsAppliedInTraining()
    {
        // The modules drop the outputs of every layer but the last while training; so must the unrolled pass.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        var lstm = nn.LSTM(4, 6, 2, batchFirst: true, dropout: 0.5);
        lstm.train();
        var x = torch.randn(2, 5, 4);
        var (withDropout, _) = UnrolledRecurrence.Forward(lstm, x, layers: 2, bidirectional: false, dropout: 0.5);
        var (without, _) = UnrolledRecurrence.Forward(lstm, x, layers: 2, bidirectional: false, dropout: 0);
        Assert.False(withDropout.allclose(without), "dropout 0.5 between the layers changed nothing");
    }

    [Fact]
    public void AnotherModule_ThrowsNamingIt()
    {
        using var scope = torch.NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => UnrolledRecurrence.Forward(nn.Linear(4, 4), torch.randn(1, 2, 4), 1, false, 0));
        Assert.Contains("Linear", error.Message);
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.abs().max().item<float>() > 0, $"{what}: all zero, the comparison would prove nothing");
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6), $"{what} differ by {(actual - expected).abs().max().item<float>():G3}");
    }

    private static void AssertGradientsClose(Tensor[] expected, Tensor[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i].abs().max().item<float>() > 0, $"parameter {i} has no gradient");
            Assert.True(actual[i].allclose(expected[i], rtol: 1e-4, atol: 1e-5),
                $"gradient {i} differs by {(actual[i] - expected[i]).abs().max().item<float>():G3}");
        }
    }
}

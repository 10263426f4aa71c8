using System;
using System.Linq;
using ML.DeepExtensions.Networks;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text.Tests.Layers;

public class TransformerLayerTests
{
    private const int Vocabulary = 50;
    private const int Padding = 0;

    private static nn.Module<Tensor, Tensor> Build(Network network, params int[] input)
    {
        var generator = new Generator(5);
        torch.manual_seed(5);
        var module = network.Build(input, new BuildContext(generator));
        module.eval();
        return module;
    }

    /// <summary>Right-padded id rows of length <paramref name="length"/>, as floats like the trainers feed them.</summary>
    private static Tensor Ids(int length, params int[][] rows)
    {
        var values = new float[rows.Length * length];
        for (var r = 0; r < rows.Length; r++)
            for (var i = 0; i < rows[r].Length; i++)
                values[r * length + i] = rows[r][i];
        return torch.tensor(values, new long[] { rows.Length, length });
    }

    private static bool Same(Tensor a, Tensor b) => a.eq(b).all().ToBoolean();

    private static Network Composite(bool causal, SequencePooling pooling = SequencePooling.None)
        => Network.Create().Transformer(Vocabulary, 16, 16, Padding, layers: 2, heads: 4, dropout: 0.1, causal: causal, pooling: pooling);

    private static Network Separate(bool causal, SequencePooling? pooling = null)
    {
        var network = Network.Create().TokenEmbedding(Vocabulary, 16, 16, Padding)
            .TransformerBlock(4, 32, 0.1, causal).TransformerBlock(4, 32, 0.1, causal);
        return pooling is { } p ? network.SequencePool(p) : network;
    }

    [Fact]
    public void Shapes_AreInferred_ForTheSeparateLayersAndTheComposite()
    {
        Assert.Equal(new[] { 12, 16 }, Separate(false).OutputShape(12));
        Assert.Equal(new[] { 16 }, Separate(false, SequencePooling.Mean).OutputShape(12));
        Assert.Equal(new[] { 12, 16 }, Composite(true).OutputShape(12));
        Assert.Equal(new[] { 16 }, Composite(false, SequencePooling.First).OutputShape(12));
        Assert.Equal(new[] { 12, Vocabulary }, Composite(true).Dense(Vocabulary).OutputShape(12));
    }

    [Fact]
    public void Shapes_BadInputs_ThrowNamingTheLayer()
    {
        var tooLong = Assert.Throws<NetworkShapeException>(() => Composite(true).OutputShape(17));
        Assert.Contains("maxLength=16", tooLong.Message);
        var heads = Assert.Throws<NetworkShapeException>(() => Network.Create().TokenEmbedding(Vocabulary, 10, 16, Padding).TransformerBlock(4, 8).OutputShape(8));
        Assert.Equal(1, heads.LayerIndex);
        Assert.Contains("divisible by heads=4", heads.Message);
        var noEmbedding = Assert.Throws<NetworkShapeException>(() => Network.Create().TransformerBlock(2, 8).OutputShape(8));
        Assert.Contains("TokenEmbedding", noEmbedding.Message);
        Assert.Throws<ArgumentException>(() => new TransformerLayer(Vocabulary, 10, 16, Padding, 1, heads: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenEmbeddingLayer(Vocabulary, 8, 16, paddingId: Vocabulary));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SequencePoolLayer(SequencePooling.None));
    }

    [Fact]
    public void Json_RoundTrips_EveryTransformerLayer()
    {
        var network = Network.Create().TokenEmbedding(Vocabulary, 16, 16, Padding, learnedPositions: false)
            .TransformerBlock(4, 32, 0.2, causal: true).SequencePool(SequencePooling.Last)
            .Add(new TransformerLayer(Vocabulary, 8, 16, 3, 2, 2, 0, 0.05, true, SequencePooling.Mean, false));
        var json = network.ToJson();
        Assert.Contains("\"type\":\"Transformer\",\"assembly\":\"ML.DeepExtensions.Text\"", json);
        Assert.Contains("\"type\":\"TransformerBlock\",\"assembly\":\"ML.DeepExtensions.Text\"", json);
        Assert.Equal(json, Network.FromJson(json).ToJson());
        var composite = (TransformerLayer)Network.FromJson(json).Layers[3];
        Assert.Equal((8, 3, 32, true, SequencePooling.Mean, false), (composite.Dimensions, composite.PaddingId, composite.FeedForward, composite.Causal, composite.Pooling, composite.LearnedPositions));
    }

    [Fact]
    public void ParameterCount_MatchesTheArchitecture()
    {
        const int d = 16, ff = 64, layers = 2, maxLength = 16;
        long block = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * ff + ff) + (ff * d + d);
        long expected = Vocabulary * d + maxLength * d + layers * block + 2 * d;
        Assert.Equal(expected, Composite(true).Describe(8).Sum(r => r.Parameters));
        // Sinusoidal positions are not parameters.
        Assert.Equal((long)Vocabulary * d, Network.Create().TokenEmbedding(Vocabulary, d, maxLength, Padding, learnedPositions: false).Describe(8).Sum(r => r.Parameters));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Causal_ChangingALaterToken_LeavesEarlierOutputsUnchanged(bool composite)
    {
        using var scope = torch.NewDisposeScope();
        var module = Build(composite ? Composite(true) : Separate(true), 10);
        var a = module.forward(Ids(10, [4, 9, 17, 23, 8, 30, 12, 2]));
        var b = module.forward(Ids(10, [4, 9, 17, 23, 8, 41, 12, 2]));
        Assert.True(Same(a.narrow(1, 0, 5), b.narrow(1, 0, 5)), "positions before the change must be bit-identical");
        Assert.False(a.narrow(1, 5, 3).allclose(b.narrow(1, 5, 3), atol: 1e-4), "the changed position and later ones must change");
    }

    [Fact]
    public void Bidirectional_ChangingALaterToken_ChangesEarlierOutputs()
    {
        using var scope = torch.NewDisposeScope();
        var module = Build(Composite(false), 10);
        var a = module.forward(Ids(10, [4, 9, 17, 23, 8, 30, 12, 2]));
        var b = module.forward(Ids(10, [4, 9, 17, 23, 8, 41, 12, 2]));
        Assert.False(a.narrow(1, 0, 5).allclose(b.narrow(1, 0, 5), atol: 1e-4));
    }

    [Theory]
    [InlineData(true, SequencePooling.Mean, false)]
    [InlineData(true, SequencePooling.First, false)]
    [InlineData(true, SequencePooling.Last, true)]
    [InlineData(false, SequencePooling.Mean, false)]
    [InlineData(false, SequencePooling.Last, true)]
    public void Padding_ASequenceScoresTheSame_AloneShorterOrBatchedWithLongerOnes(bool composite, SequencePooling pooling, bool causal)
    {
        using var scope = torch.NewDisposeScope();
        var network = composite ? Composite(causal, pooling) : Separate(causal, pooling);
        var module = Build(network, 16);
        int[] sequence = [7, 3, 22, 5, 11];
        var alone = module.forward(Ids(8, sequence));
        var batched = module.forward(Ids(16, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], sequence, [40, 41, 42, 43, 44, 45, 46]));
        Assert.True(alone[0].allclose(batched[1], rtol: 1e-5, atol: 1e-6),
            $"max difference {(alone[0] - batched[1]).abs().max().ToSingle()}");
        // The padding really is masked: the same tokens without masking would differ.
        var other = module.forward(Ids(8, [7, 3, 22, 5, 11, 9, 9, 9]));
        Assert.False(alone[0].allclose(other[0], atol: 1e-4));
    }

    [Fact]
    public void Padding_RowsAreZero_AfterEmbeddingAndEveryBlock()
    {
        using var scope = torch.NewDisposeScope();
        var module = Build(Separate(false), 8);
        var output = module.forward(Ids(8, [5, 6, 7]));
        Assert.Equal(0f, output[0].narrow(0, 3, 5).abs().sum().ToSingle());
        Assert.True(output[0].narrow(0, 0, 3).ne(0).any(-1).all().ToBoolean());
    }

    [Fact]
    public void EmptySequence_GivesFiniteZeros()
    {
        using var scope = torch.NewDisposeScope();
        var module = Build(Composite(true, SequencePooling.Mean), 8);
        var output = module.forward(Ids(8, Array.Empty<int>(), [3, 4]));
        Assert.True(output.isfinite().all().ToBoolean());
        Assert.Equal(0f, output[0].abs().sum().ToSingle());
    }

    [Fact]
    public void ForwardBackward_EveryParameterGetsAFiniteGradient()
    {
        using var scope = torch.NewDisposeScope();
        var module = Build(Composite(true).Dense(Vocabulary), 16);
        module.train();
        var output = module.forward(Ids(16, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [5, 9, 2]));
        Assert.Equal(new long[] { 2, 16, Vocabulary }, output.shape);
        output.square().mean().backward();
        foreach (var (name, parameter) in module.named_parameters())
        {
            Assert.NotNull(parameter.grad);
            Assert.True(parameter.grad!.isfinite().all().ToBoolean(), name);
            Assert.True(parameter.grad!.abs().sum().ToSingle() > 0, $"{name} got a zero gradient");
        }
    }

    [Fact]
    public void Dropout_IsOffWhenScoring_AndSeededWhenTraining()
    {
        using var scope = torch.NewDisposeScope();
        var ids = Ids(8, [5, 6, 7, 8]);
        var first = Build(Composite(true), 8);
        var second = Build(Composite(true), 8);
        Assert.True(Same(first.forward(ids), first.forward(ids)));
        first.train();
        second.train();
        var a = first.forward(ids);
        Assert.True(Same(a, second.forward(ids)), "same seed, same dropout masks");
        Assert.False(Same(a, first.forward(ids)), "masks change from call to call");
    }

    [Fact]
    public void OutOfVocabularyId_ThrowsNamingTheRange()
    {
        using var scope = torch.NewDisposeScope();
        var module = Build(Composite(true), 8);
        var ex = Assert.Throws<ArgumentException>(() => module.forward(Ids(8, [5, Vocabulary])));
        Assert.Contains($"[0, {Vocabulary})", ex.Message);
    }
}

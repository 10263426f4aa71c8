using System;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Tests.Onnx;
using ML.DeepExtensions.Text.Classification;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Onnx;

/// <summary>
/// The Transformer layers with padding masks: ONNX Runtime equals TorchSharp within 1e-4 (max abs) on right-padded random
/// token ids (rows of every length, empty rows included) at batch sizes 1 and 6, for two sequence lengths.
/// </summary>
public class TextOnnxParityTests
{
    private const float Tolerance = 1e-4f;
    private const int Vocabulary = 30;
    private const int Padding = 0;

    /// <summary>Right-padded rows of <paramref name="length"/> ids: a random number of real ids (1 … vocabulary−1), then padding.</summary>
    private static Func<Random, float> PaddedIds(int length)
    {
        var position = 0;
        var real = 0;
        return random =>
        {
            var p = position++ % length;
            if (p == 0)
                real = random.Next(0, length + 1);
            return p < real ? random.Next(1, Vocabulary) : Padding;
        };
    }

    private static void AssertParity(Network network, int length, int opset = 17)
    {
        var differences = OnnxParity.MaxAbsDifferences(network, [length], opset, value: PaddedIds(length), batches: [1, 6]);
        Assert.All(differences, d => Assert.True(d <= Tolerance, $"length {length}, opset {opset}: max abs difference {d}, largest output {OnnxParity.LastOutputMagnitude}"));
    }

    [Theory]
    [InlineData(SequencePooling.None, false, true)]
    [InlineData(SequencePooling.Mean, false, true)]
    [InlineData(SequencePooling.First, false, false)]
    [InlineData(SequencePooling.Last, true, true)]
    [InlineData(SequencePooling.Mean, true, false)]
    public void Transformer_WithPaddingMask_MatchesTorchSharp(SequencePooling pooling, bool causal, bool learnedPositions)
    {
        foreach (var length in new[] { 5, 9 })
        {
            var network = Network.Create().Transformer(Vocabulary, 16, 12, Padding, layers: 2, heads: 4, feedForward: 24, causal: causal, pooling: pooling, learnedPositions: learnedPositions);
            AssertParity(network, length);
        }
    }

    [Fact]
    public void Transformer_AtOpset12_MatchesTorchSharp()
    {
        // ML.NET's ConvertToOnnx writes opset 11/12: LayerNorm decomposed, ReduceMean with axes attributes.
        AssertParity(Network.Create().Transformer(Vocabulary, 8, 10, Padding, layers: 1, heads: 2, pooling: SequencePooling.Mean), 7, opset: 12);
    }

    [Fact]
    public void SeparateTransformerLayers_MatchTorchSharp()
    {
        var network = Network.Create().TokenEmbedding(Vocabulary, 8, 12, Padding)
            .TransformerBlock(2, 16).TransformerBlock(2, 16, causal: true).SequencePool(SequencePooling.Last).Dense(3);
        AssertParity(network, 6);
    }

    [Fact]
    public void TransformerTextArchitecture_WithTrimPaddingAndPrependedToken_MatchesTorchSharp()
    {
        var network = Network.Create().Add(new TrimPaddingLayer(Vocabulary, Padding)).Add(new PrependTokenLayer(Vocabulary))
            .Transformer(Vocabulary + 1, 8, 12, Padding, layers: 1, heads: 2, pooling: SequencePooling.First).Dense(2);
        AssertParity(network, 7);
    }

    [Theory]
    [InlineData(RecurrentKind.Lstm, 1, false, TextPooling.LastState)]
    [InlineData(RecurrentKind.Lstm, 2, true, TextPooling.LastState)]
    [InlineData(RecurrentKind.Gru, 1, true, TextPooling.Max)]
    [InlineData(RecurrentKind.Gru, 2, false, TextPooling.Mean)]
    [InlineData(RecurrentKind.Lstm, 1, true, TextPooling.Mean)]
    public void RecurrentTextEncoder_WithSequenceLengths_MatchesTorchSharp(RecurrentKind kind, int layers, bool bidirectional, TextPooling pooling)
    {
        // Packed sequences in TorchSharp, sequence_lens in ONNX: each row stops at its own length (empty rows read one padding token).
        foreach (var length in new[] { 5, 8 })
        {
            var network = Network.Create().Add(new RecurrentTextEncoderLayer(kind, Vocabulary, 8, Padding, 6, layers, bidirectional, 0.2, pooling));
            AssertParity(network, length);
        }
        AssertParity(Network.Create().Add(new RecurrentTextEncoderLayer(kind, Vocabulary, 8, Padding, 6, layers, bidirectional, 0.2, pooling)), 6, opset: 12);
    }
}

using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Scoring;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text.Tests.Reliability;

/// <summary>The weight sizes this package registers with <see cref="NetworkWeightBound"/> are exact for its Transformer layers.</summary>
[Trait("Category", "Reliability")]
public sealed class TextWeightBoundTests
{
    public static TheoryData<string, Network, int[]> Networks => new()
    {
        { "TokenEmbedding (learned), TransformerBlock, SequencePool", Network.Create().TokenEmbedding(30, 8, 10, 0).TransformerBlock(2, 12).SequencePool(SequencePooling.Mean).Dense(2), [10] },
        { "TokenEmbedding (sinusoidal)", Network.Create().TokenEmbedding(30, 8, 10, 0, learnedPositions: false).TransformerBlock(4, 16, causal: true), [6] },
        { "Transformer composite", Network.Create().Transformer(40, 16, 12, 0, layers: 2, heads: 2).Dense(40), [12] },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void LowerBound_OfTransformerLayers_IsTheBuiltStateSize(string name, Network network, int[] inputShape)
    {
        using var model = NetworkModel.Build(network, inputShape, seed: 0, CPU);
        var state = model.Module.state_dict().Values.Sum(t => t.numel() * t.ElementSize);

        Assert.True(state == NetworkWeightBound.LowerBound(network, inputShape), $"{name}: built state {state} bytes, bound {NetworkWeightBound.LowerBound(network, inputShape)}");
    }
}

using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Scoring;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>
/// The size a model zip's network must have, computed before building it (<see cref="NetworkWeightBound"/>), is exact
/// for every layer kind of the core package: a larger bound would reject valid models, a smaller one let a header that
/// describes a huge network allocate it.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class NetworkWeightBoundTests
{
    public static TheoryData<string, Network, int[]> Networks => new()
    {
        { "Dense with and without bias", Network.Create().Dense(7).ReLU().Dense(3, useBias: false), [5] },
        { "Conv2d grouped and bias-free, BatchNorm 2d", Network.Create().Conv2d(8, 3, padding: 1).BatchNorm().Conv2d(8, 3, groups: 4, useBias: false).Flatten().Dense(2), [2, 6, 6] },
        { "Conv1d, pooling, LayerNorm, BatchNorm 1d", Network.Create().Conv1d(4, 3).MaxPool1d(2).Flatten().Dense(6).BatchNorm().LayerNorm(), [3, 10] },
        { "Embedding, bidirectional 2-layer LSTM", Network.Create().Embedding(50, 8).Lstm(6, layers: 2, bidirectional: true), [7] },
        { "GRU returning sequences, then GRU", Network.Create().Embedding(20, 4).Gru(5, returnSequences: true).Gru(3, layers: 3), [9] },
        { "Residual with shortcut, SqueezeExcitation", Network.Create()
            .Residual(Network.Create().Conv2d(6, 3, padding: 1).BatchNorm().ReLU(), Network.Create().Conv2d(6, 1).BatchNorm(), ActivationKind.ReLU)
            .SqueezeExcitation(2).GlobalAveragePool().Dense(4), [3, 5, 5] },
        { "Mlp architecture", Network.Mlp([16, 8], batchNorm: true).Dense(3), [12] },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void LowerBound_OfCoreLayers_IsTheBuiltStateSize(string name, Network network, int[] inputShape)
    {
        using var model = NetworkModel.Build(network, inputShape, seed: 0, CPU);
        var state = model.Module.state_dict().Values.Sum(t => t.numel() * t.ElementSize);

        Assert.True(state == NetworkWeightBound.LowerBound(network, inputShape), $"{name}: built state {state} bytes, bound {NetworkWeightBound.LowerBound(network, inputShape)}");
    }

    [Fact]
    public void LowerBound_OfAnOverflowingNetwork_IsMaxValue()
        => Assert.Equal(long.MaxValue, NetworkWeightBound.LowerBound(Network.Create().Dense(int.MaxValue).Dense(int.MaxValue).Dense(int.MaxValue), [int.MaxValue]));
}

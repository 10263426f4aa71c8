using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Text.Classification;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text.Tests.Layers;

/// <summary>Layer-wise learning-rate decay cuts a BERT encoder as fine-tuning recipes do: embeddings, then each block, then the head.</summary>
public class BertLayerwiseDecayTests
{
    [Fact]
    public void BertEncoder_IsCutIntoEmbeddingsAndOneBlockPerEncoderLayer()
    {
        var bert = new BertEncoderLayer(vocabularySize: 40, dimensions: 8, layers: 3, heads: 2, feedForward: 16, maxPositions: 12, typeVocabularySize: 2,
            paddingId: 0, dropout: 0, layerNormEpsilon: 1e-12, SequencePooling.Mean, normalize: false);
        using var model = NetworkModel.Build(Network.Create().Add(bert).Dense(2), [12], seed: 1, CPU);
        var options = new NeuralTextBinaryOptions { LayerwiseLearningRateDecay = 0.9 };
        var (groups, factors) = TrainingLoop.ParameterGroups(model.Module, model.BackboneParameters(), options);

        Assert.Equal(1 + 3 + 1, groups.Count); // embeddings (+ their LayerNorm), 3 blocks, the head
        Assert.Equal(new[] { 0.6561, 0.729, 0.81, 0.9, 1.0 }, factors.Select(f => System.Math.Round(f, 10)));
        var blockSizes = groups.Skip(1).Take(3).Select(g => g.Sum(p => p.numel())).Distinct().ToArray();
        Assert.Single(blockSizes); // the three encoder blocks have the same parameters
        Assert.Equal(2, groups[^1].Count); // the Dense head's weight and bias
    }
}

using System;
using System.Linq;
using ML.DeepExtensions.Networks;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text.Tests.Layers;

/// <summary>
/// Network JSON written by format version 1, when the image and Transformer layers lived in the core assembly and
/// layers named no assembly (the strings below were printed by that version's <c>Network.ToJson</c>). The image layers
/// come from <c>ML.DeepExtensions.Vision</c>, which this test project never references in code: the build copies it beside
/// the tests (through the scoring probe), as an application that loads a model zip has it beside the application.
/// </summary>
public class VersionOneNetworkJsonTests
{
    private const string ImageNetwork =
        "{\"layers\":[{\"type\":\"Reshape\",\"shape\":[1,8,8]},{\"type\":\"RandomCrop\",\"padding\":1,\"paddingMode\":\"Reflect\"}," +
        "{\"type\":\"RandomFlip\",\"horizontal\":true,\"vertical\":true,\"probability\":0.5},{\"type\":\"RandomRotation\",\"maxDegrees\":10}," +
        "{\"type\":\"ColorJitter\",\"brightness\":0.2,\"contrast\":0.1}," +
        "{\"type\":\"RandomErasing\",\"probability\":0.25,\"minScale\":0.02,\"maxScale\":0.33,\"minRatio\":0.3,\"maxRatio\":3.3}," +
        "{\"type\":\"Normalize\",\"mean\":[0.5],\"std\":[0.25]}," +
        "{\"type\":\"Convolution\",\"dimensions\":2,\"filters\":4,\"kernelSize\":3,\"stride\":1,\"padding\":1,\"groups\":1,\"useBias\":true}," +
        "{\"type\":\"Activation\",\"kind\":\"ReLU\",\"negativeSlope\":0.01},{\"type\":\"Flatten\"},{\"type\":\"Dense\",\"units\":3,\"useBias\":true}]}";

    private const string TextNetwork =
        "{\"layers\":[{\"type\":\"TokenEmbedding\",\"vocabularySize\":50,\"dimensions\":16,\"maxLength\":12,\"paddingId\":0,\"learnedPositions\":true}," +
        "{\"type\":\"TransformerBlock\",\"heads\":4,\"feedForward\":32,\"dropout\":0.1,\"causal\":true},{\"type\":\"SequencePool\",\"pooling\":\"Mean\"}," +
        "{\"type\":\"Dense\",\"units\":2,\"useBias\":true}]}";

    private const string CompositeNetwork =
        "{\"layers\":[{\"type\":\"Transformer\",\"vocabularySize\":50,\"dimensions\":16,\"maxLength\":12,\"paddingId\":0,\"layers\":2,\"heads\":4," +
        "\"feedForward\":64,\"dropout\":0.1,\"causal\":true,\"pooling\":\"None\",\"learnedPositions\":false},{\"type\":\"Dense\",\"units\":50,\"useBias\":true}]}";

    [Fact]
    public void ImageLayers_InVersionOneJson_LoadFromTheVisionPackage_AndBuild()
    {
        var network = Network.FromJson(ImageNetwork);

        var kinds = network.Layers.Select(l => (l.GetType().Name, l.GetType().Assembly.GetName().Name)).ToArray();
        Assert.Equal(("RandomCropLayer", "ML.DeepExtensions.Vision"), kinds[1]);
        Assert.Equal(("RandomFlipLayer", "ML.DeepExtensions.Vision"), kinds[2]);
        Assert.Equal(("NormalizeLayer", "ML.DeepExtensions.Vision"), kinds[6]);
        Assert.Equal(("DenseLayer", "ML.DeepExtensions"), kinds[^1]);
        Assert.Equal("Normalize(mean [0.5], std [0.25])", network.Layers[6].ToString());
        Assert.Equal("RandomFlip(horizontal and vertical, p 0.5)", network.Layers[2].ToString());
        Assert.Equal(new[] { 3 }, network.OutputShape(64));
        Assert.Equal(4 * 9 + 4 + 4 * 64 * 3 + 3, network.Describe(64).Sum(d => d.Parameters));

        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        var module = network.Build([64], new BuildContext(generator));
        module.eval();
        var x = torch.rand(2, 64);
        Assert.Equal(new long[] { 2, 3 }, module.forward(x).shape);

        // Written again, the layers name their package; the rest of the JSON is unchanged.
        var json = network.ToJson();
        Assert.Contains("{\"type\":\"Normalize\",\"assembly\":\"ML.DeepExtensions.Vision\",\"mean\":[0.5],\"std\":[0.25]}", json);
        Assert.Equal(ImageNetwork, json.Replace(",\"assembly\":\"ML.DeepExtensions.Vision\"", ""));
        Assert.Equal(json, Network.FromJson(json).ToJson());
    }

    [Fact]
    public void TransformerLayers_InVersionOneJson_LoadFromTheTextPackage_AndBuild()
    {
        var separate = Network.FromJson(TextNetwork);
        var embedding = Assert.IsType<TokenEmbeddingLayer>(separate.Layers[0]);
        Assert.Equal((50, 16, 12, 0, true), (embedding.VocabularySize, embedding.Dimensions, embedding.MaxLength, embedding.PaddingId, embedding.LearnedPositions));
        var block = Assert.IsType<TransformerBlockLayer>(separate.Layers[1]);
        Assert.Equal((4, 32, 0.1, true), (block.Heads, block.FeedForward, block.Dropout, block.Causal));
        Assert.Equal(SequencePooling.Mean, Assert.IsType<SequencePoolLayer>(separate.Layers[2]).Pooling);
        Assert.Equal(new[] { 2 }, separate.OutputShape(12));

        var composite = Network.FromJson(CompositeNetwork);
        var transformer = Assert.IsType<TransformerLayer>(composite.Layers[0]);
        Assert.Equal((2, 4, 64, true, SequencePooling.None, false), (transformer.Layers, transformer.Heads, transformer.FeedForward, transformer.Causal, transformer.Pooling, transformer.LearnedPositions));
        Assert.Equal(new[] { 12, 50 }, composite.OutputShape(12));

        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        foreach (var network in new[] { separate, composite })
        {
            var module = network.Build([12], new BuildContext(generator));
            module.eval();
            var ids = torch.tensor(new float[] { 5, 7, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, new long[] { 1, 12 });
            Assert.True(module.forward(ids).isfinite().all().ToBoolean());
        }
        Assert.Equal(TextNetwork, separate.ToJson().Replace(",\"assembly\":\"ML.DeepExtensions.Text\"", ""));
        Assert.Equal(CompositeNetwork, composite.ToJson().Replace(",\"assembly\":\"ML.DeepExtensions.Text\"", ""));
    }
}

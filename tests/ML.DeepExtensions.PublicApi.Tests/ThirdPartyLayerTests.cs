using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Scoring;
using TorchSharp;
using TorchSharp.Modules;
using Microsoft.ML.OnnxRuntime;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.PublicApi.Tests;

/// <summary>
/// A layer kind written the way another package would write one, with the public API only: a learned per-feature scale
/// over <c>(features)</c>. The class is the description, the shape rule and the builder; it is registered once, from
/// this assembly's module initializer.
/// </summary>
public sealed class LearnedScaleLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="initialScale">The value every scale starts from.</param>
    public LearnedScaleLayer(float initialScale) => InitialScale = initialScale;

    /// <summary>The value every scale starts from.</summary>
    public float InitialScale { get; }

    /// <inheritdoc />
    public override string ToString() => $"LearnedScale(from {InitialScale})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length == 1 ? (int[])input.Clone() : throw ShapeError(index, input, "(features)");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new LearnedScaleModule(input[0], InitialScale);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context) => context.Node("Mul", [context.Input, context.Initializer("scale")]);

    private sealed class LearnedScaleModule : nn.Module<Tensor, Tensor>
    {
        private readonly Parameter scale;

        public LearnedScaleModule(int features, float initialScale) : base("LearnedScale")
        {
            scale = new Parameter(torch.full(new long[] { features }, initialScale, dtype: ScalarType.Float32));
            register_parameter("scale", scale);
        }

        public override Tensor forward(Tensor input) => input.mul(scale);
    }
}

internal static class ThirdPartyLayers
{
#pragma warning disable CA2255 // A package registers its layer kinds from its module initializer.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => LayerRegistry.Register<LearnedScaleLayer>("ThirdPartyLearnedScale");
}

public class ThirdPartyLayerTests
{
    public sealed class Row
    {
        [VectorType(2)]
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }

    private static IDataView Rows(MLContext mlContext, int count, int seed)
    {
        var random = new Random(seed);
        return mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, count).Select(_ =>
        {
            var x = new[] { (float)random.NextDouble() * 2 - 1, (float)random.NextDouble() * 2 - 1 };
            return new Row { Features = x, Label = x[0] + 2 * x[1] };
        }).ToArray());
    }

    [Fact]
    public void ThirdPartyLayer_RegistersRoundTripsThroughJsonBuildsTrainsAndReloads()
    {
        // JSON: the registered name, and this assembly as the place to find it.
        var network = Network.Create().Add(new LearnedScaleLayer(0f));
        var json = network.ToJson();
        Assert.Equal("{\"layers\":[{\"type\":\"ThirdPartyLearnedScale\",\"assembly\":\"ML.DeepExtensions.PublicApi.Tests\",\"initialScale\":0}]}", json);
        Assert.Equal(0f, Assert.IsType<LearnedScaleLayer>(Network.FromJson(json).Layers[0]).InitialScale);
        Assert.Contains(LayerRegistry.TypeNames, n => n == "ThirdPartyLearnedScale");

        // Build: shapes and parameter counts through the public description.
        Assert.Equal(2, network.Describe(2).Single().Parameters);
        Assert.Contains("expects input (features)", Assert.Throws<NetworkShapeException>(() => network.OutputShape(2, 2)).Message);

        // Train: the scales start at 0, so the Dense layer after them sees zeros and every prediction would stay equal
        // to its bias unless the gradient reaches the third-party layer's parameter.
        var mlContext = new MLContext(seed: 1);
        var train = Rows(mlContext, 200, 1);
        var test = Rows(mlContext, 20, 2);
        var model = mlContext.Regression.Trainers.NeuralNetwork(network: network, epochs: 1, batchSize: 16, learningRate: 0.05).Fit(train);
        Assert.Contains("LearnedScale(from 0)", model.Summary());
        var scores = model.Transform(test).GetColumn<float>("Score").ToArray();
        Assert.True(scores.Distinct().Count() > 1, "The learned scale did not train: every prediction is the bias.");

        // Save and load in a fresh MLContext: the same network from the zip's JSON, the same weights, the same scores.
        using var zip = new MemoryStream();
        mlContext.Model.Save(model, train.Schema, zip);
        zip.Position = 0;
        var loaded = Assert.IsType<NeuralNetworkTransformer>(new MLContext().Model.Load(zip, out _));
        Assert.IsType<LearnedScaleLayer>(loaded.Network.Layers[0]);
        Assert.Equal(scores, loaded.Transform(test).GetColumn<float>("Score").ToArray());
    }

    [Fact]
    public void ThirdPartyLayerWithItsOwnLowering_ExportToOnnx_ScoresLikeTransform()
    {
        var mlContext = new MLContext(seed: 1);
        var train = Rows(mlContext, 200, 1);
        var test = Rows(mlContext, 20, 2);
        var model = mlContext.Regression.Trainers.NeuralNetwork(network: Network.Create().Add(new LearnedScaleLayer(1f)).Dense(4).Tanh(), epochs: 1, batchSize: 16).Fit(train);
        using var onnx = new MemoryStream();
        model.ExportToOnnx(onnx, new OnnxExportOptions { OpsetVersion = OnnxExportOptions.Defaults.OpsetVersion });

        var expected = model.Transform(test).GetColumn<float>("Score").ToArray();
        var features = test.GetColumn<float[]>("Features").SelectMany(f => f).ToArray();
        using var session = new InferenceSession(onnx.ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Features", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(features, [expected.Length, 2]))]);
        var actual = results.Single(r => r.Name == "Score").AsTensor<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)) <= 1e-4f);
        Assert.Equal("Regression", session.ModelMetadata.CustomMetadataMap["task"]);
    }
}

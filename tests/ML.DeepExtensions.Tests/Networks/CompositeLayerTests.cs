using System;
using System.Collections.Generic;
using System.Linq;
using ML.DeepExtensions.Networks;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks;

public class CompositeLayerTests
{
    private static nn.Module<Tensor, Tensor> Build(Network network, params int[] input)
    {
        var generator = new Generator(3);
        torch.manual_seed(3);
        return network.Build(input, new BuildContext(generator));
    }

    private static bool Close(Tensor a, Tensor b) => a.allclose(b, rtol: 1e-5, atol: 1e-6);

    [Fact]
    public void Residual_IdentityShortcut_AddsTheInputThenActivates()
    {
        var network = Network.Create().Residual(Network.Create().Dense(4), activation: ActivationKind.ReLU);
        Assert.Equal(new[] { 4 }, network.OutputShape(4));
        using var scope = torch.NewDisposeScope();
        var module = Build(network, 4);
        var x = torch.randn(5, 4);
        var state = ModuleState.InPyTorchOrder(module);
        var (weight, bias) = (state[0].Tensor, state[1].Tensor);
        var expected = torch.nn.functional.relu(x.matmul(weight.t()) + bias + x);
        Assert.True(Close(expected, module.forward(x)));
    }

    [Fact]
    public void Residual_WithShortcut_RegistersBodyBeforeShortcut()
    {
        var network = Network.Create().Residual(
            Network.Create().Conv2d(8, 3, 2, 1, useBias: false).BatchNorm().ReLU().Conv2d(8, 3, 1, 1, useBias: false).BatchNorm(),
            Network.Create().Conv2d(8, 1, 2, useBias: false).BatchNorm(),
            ActivationKind.ReLU);
        Assert.Equal(new[] { 8, 4, 4 }, network.OutputShape(4, 8, 8));
        using var scope = torch.NewDisposeScope();
        var keys = ModuleState.InPyTorchOrder(Build(network, 4, 8, 8)).Select(e => e.Key).ToArray();
        Assert.Equal(new[]
        {
            "0.body.0.weight",
            "0.body.1.weight", "0.body.1.bias", "0.body.1.running_mean", "0.body.1.running_var", "0.body.1.num_batches_tracked",
            "0.body.3.weight",
            "0.body.4.weight", "0.body.4.bias", "0.body.4.running_mean", "0.body.4.running_var", "0.body.4.num_batches_tracked",
            "0.shortcut.0.weight",
            "0.shortcut.1.weight", "0.shortcut.1.bias", "0.shortcut.1.running_mean", "0.shortcut.1.running_var", "0.shortcut.1.num_batches_tracked",
        }, keys);
    }

    [Fact]
    public void Residual_BodyChangingShape_WithoutShortcut_ThrowsNamingBothShapes()
    {
        var network = Network.Create().Dense(6).Residual(Network.Create().Dense(3));
        var ex = Assert.Throws<NetworkShapeException>(() => network.OutputShape(4));
        Assert.Equal(1, ex.LayerIndex);
        Assert.Contains("body outputs (3)", ex.Message);
        Assert.Contains("identity shortcut outputs (6)", ex.Message);
    }

    [Fact]
    public void Residual_BodyRejectingInput_ThrowsNamingTheInnerLayer()
    {
        var network = Network.Create().Residual(Network.Create().Conv2d(4, 3));
        var ex = Assert.Throws<NetworkShapeException>(() => network.OutputShape(16));
        Assert.Contains("body layer", ex.Message);
        Assert.Contains("Conv2d(4, 3x3", ex.Message);
    }

    [Fact]
    public void Residual_DropPath_DropsWholeExamplesInTrainingOnly()
    {
        var network = Network.Create().Residual(Network.Create().Dense(3, useBias: false), dropPath: 0.5);
        using var scope = torch.NewDisposeScope();
        var module = Build(network, 3);
        var x = torch.randn(64, 3);
        var body = x.matmul(ModuleState.InPyTorchOrder(module)[0].Tensor.t());
        module.eval();
        Assert.True(Close(body + x, module.forward(x)));
        module.train();
        var y = module.forward(x);
        var kept = 0;
        for (var i = 0; i < 64; i++)
        {
            var droppedRow = Close(y[i], x[i]);
            var keptRow = Close(y[i], body[i] * 2 + x[i]);
            Assert.True(droppedRow ^ keptRow, $"row {i} is neither dropped nor kept-and-scaled");
            kept += keptRow ? 1 : 0;
        }
        Assert.InRange(kept, 16, 48);
    }

    [Fact]
    public void SqueezeExcitation_ScalesChannelsLikeTorchvision()
    {
        var network = Network.Create().SqueezeExcitation(2, ActivationKind.SiLU);
        Assert.Equal(new[] { 6, 5, 5 }, network.OutputShape(6, 5, 5));
        Assert.Equal(6 * 2 + 2 + 2 * 6 + 6, network.Describe(6, 5, 5).Sum(d => d.Parameters));
        using var scope = torch.NewDisposeScope();
        var module = Build(network, 6, 5, 5);
        var state = ModuleState.InPyTorchOrder(module);
        Assert.Equal(new[] { "0.fc1.weight", "0.fc1.bias", "0.fc2.weight", "0.fc2.bias" }, state.Select(s => s.Key));
        var x = torch.randn(3, 6, 5, 5);
        var pooled = x.mean([2L, 3L]);                                                         // (3, 6)
        var squeezed = torch.nn.functional.silu(pooled.matmul(state[0].Tensor.reshape(2, 6).t()) + state[1].Tensor);
        var scale = torch.sigmoid(squeezed.matmul(state[2].Tensor.reshape(6, 2).t()) + state[3].Tensor);
        Assert.True(Close(x * scale.reshape(3, 6, 1, 1), module.forward(x)));
        Assert.Throws<NetworkShapeException>(() => network.OutputShape(6, 5));
    }

    [Fact]
    public void DepthwiseConvolution_HasOneFilterPerChannelAndChecksGroups()
    {
        var depthwise = Network.Create().Conv2d(8, 3, padding: 1, groups: 8, useBias: false);
        Assert.Equal(8 * 1 * 3 * 3, depthwise.Describe(8, 6, 6).Single().Parameters);
        Assert.Equal(4 * (8 / 2) * 3 * 3 + 4, Network.Create().Conv2d(4, 3, groups: 2).Describe(8, 6, 6).Single().Parameters);
        Assert.Contains("groups 8, no bias", depthwise.Layers[0].ToString());
        var ex = Assert.Throws<NetworkShapeException>(() => depthwise.OutputShape(6, 6, 6));
        Assert.Contains("divisible by groups=8", ex.Message);
        var bad = Assert.Throws<ArgumentException>(() => Network.Create().Conv2d(6, 3, groups: 4));
        Assert.Equal("filters", bad.ParamName);
    }

    [Fact]
    public void Pooling_WithPadding_AndAdaptivePool_InferTheRealShapes()
    {
        var network = Network.Create().MaxPool2d(3, 2, 1).AvgPool2d(3, 1, 1).AdaptiveAvgPool2d(3);
        var shapes = network.Describe(2, 7, 7).Select(d => string.Join("x", d.OutputShape)).ToArray();
        Assert.Equal(new[] { "2x4x4", "2x4x4", "2x3x3" }, shapes);
        using var scope = torch.NewDisposeScope();
        var module = Build(network, 2, 7, 7);
        var x = torch.randn(1, 2, 7, 7);
        var h = x;
        var children = module.children().Cast<nn.Module<Tensor, Tensor>>().ToArray();
        for (var i = 0; i < children.Length; i++)
        {
            h = children[i].forward(h);
            Assert.Equal(shapes[i], string.Join("x", h.shape.Skip(1)));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Network.Create().MaxPool2d(2, padding: 2));
    }

    [Fact]
    public void ReLU6_AndHardswish_ComputeTheirDefinitions()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.linspace(-8, 8, 33);
        var relu6 = Build(Network.Create().ReLU6(), 33).forward(x.unsqueeze(0)).squeeze(0);
        var hardswish = Build(Network.Create().Hardswish(), 33).forward(x.unsqueeze(0)).squeeze(0);
        Assert.True(Close(x.clamp(0, 6), relu6));
        Assert.True(Close(x * (x + 3).clamp(0, 6) / 6, hardswish));
    }

    [Fact]
    public void Json_RoundTrip_KeepsNestedNetworksInsideLayers()
    {
        var inner = Network.Create().Conv2d(8, 1, useBias: false).BatchNorm().ReLU6()
            .Conv2d(8, 3, padding: 1, groups: 8, useBias: false).BatchNorm().SqueezeExcitation(2, ActivationKind.SiLU)
            .Conv2d(8, 1, useBias: false).BatchNorm();
        var network = Network.Create().Reshape(8, 6, 6)
            .Residual(Network.Create().Residual(inner, dropPath: 0.1).Hardswish(), Network.Create().AvgPool2d(3, 1, 1), ActivationKind.ReLU)
            .MaxPool2d(3, 2, 1).AdaptiveAvgPool2d(2).Flatten().Dense(3);
        var json = network.ToJson();
        var back = Network.FromJson(json);
        Assert.Equal(json, back.ToJson());
        Assert.Contains("\"type\":\"Residual\"", json);
        Assert.Contains("\"type\":\"SqueezeExcitation\"", json);
        Assert.Equal(network.Describe(288).Select(d => (d.Layer.ToString(), string.Join("x", d.OutputShape), d.Parameters)),
            back.Describe(288).Select(d => (d.Layer.ToString(), string.Join("x", d.OutputShape), d.Parameters)));
        var residual = Assert.IsType<ResidualLayer>(back.Layers[1]);
        Assert.Equal(ActivationKind.ReLU, residual.Activation);
        Assert.Equal(0.1, Assert.IsType<ResidualLayer>(residual.Body.Layers[0]).DropPath);
        Assert.Null(Assert.IsType<ResidualLayer>(residual.Body.Layers[0]).Activation);
    }

    [Fact]
    public void Architecture_FromAnAssemblyNotYetLoaded_IsLoadedByNameAndRegistered()
    {
        // This test project never references the vision package in code; its build copies the assembly beside the
        // tests (through the scoring probe), as an application that loads a model zip has it beside the application.
        const string vision = "ML.DeepExtensions.Vision";
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == vision);
        Assert.False(ArchitectureRegistry.IsRegistered("LeNet5"));
        var json = "{\"layers\":[{\"type\":\"Reshape\",\"shape\":[1,28,28]},{\"type\":\"Architecture\",\"name\":\"LeNet5\","
            + "\"parameters\":{\"width\":\"0.5\"},\"assembly\":\"" + vision + "\"},{\"type\":\"Dense\",\"units\":10}]}";
        var network = Network.FromJson(json);
        Assert.Equal(new[] { 10 }, network.OutputShape(784));
        Assert.True(ArchitectureRegistry.IsRegistered("ResNet18"));
        Assert.Contains(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == vision);
        Assert.Contains("\"assembly\":\"" + vision + "\"", network.ToJson());
    }

    [Fact]
    public void Architecture_FromAnAssemblyThatCannotBeLoaded_ThrowsNamingIt()
    {
        var network = Network.FromJson("{\"layers\":[{\"type\":\"Architecture\",\"name\":\"NoSuchNet2\",\"assembly\":\"No.Such.Assembly\"}]}");
        var ex = Assert.Throws<KeyNotFoundException>(() => network.OutputShape(4));
        Assert.Contains("'NoSuchNet2' is not registered", ex.Message);
        Assert.Contains("'No.Such.Assembly'", ex.Message);
        Assert.Contains("could not be loaded", ex.Message);
    }

    [Fact]
    public void Architecture_RemembersTheRegisteringAssembly_ButNotForCoreBuiltIns()
    {
        ArchitectureRegistry.Register("TestAssemblyNet", (p, shape) => Network.Create().Dense(2));
        Assert.Equal("ML.DeepExtensions.Tests", new ArchitectureLayer("TestAssemblyNet").Assembly);
        Assert.Null(new ArchitectureLayer("Mlp").Assembly);
        Assert.DoesNotContain("assembly", Network.Mlp().ToJson());
        Assert.Contains("\"assembly\":\"ML.DeepExtensions.Tests\"", Network.Create().Architecture("TestAssemblyNet").ToJson());
    }
}

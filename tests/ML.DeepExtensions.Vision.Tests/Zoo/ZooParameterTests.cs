using System;
using System.Collections.Generic;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.TestSupport;
using ML.DeepExtensions.Vision.Zoo;
using Xunit;

namespace ML.DeepExtensions.Vision.Tests.Zoo;

/// <summary>Typed parameters of the zoo: one place per default, the stored form unchanged, binding both ways.</summary>
public class ZooParameterTests
{
    /// <summary>
    /// <c>Network.ToJson()</c> of the factories, captured from the code before typed parameters (commit db71e88):
    /// networks made by the same calls must keep their exact JSON.
    /// </summary>
    public static TheoryData<string, string> JsonBeforeTypedParameters => new()
    {
        { "ResNet18()", """{"layers":[{"type":"Architecture","name":"ResNet18","parameters":{"width":"1","smallInput":"false","channels":"3"},"assembly":"ML.DeepExtensions.Vision"}]}""" },
        { "ResNet18(width: 0.25, smallInput: true)", """{"layers":[{"type":"Architecture","name":"ResNet18","parameters":{"width":"0.25","smallInput":"true","channels":"3"},"assembly":"ML.DeepExtensions.Vision"}]}""" },
        { "ResNet18(blocks: [2, 2, 2, 3])", """{"layers":[{"type":"Architecture","name":"ResNet18","parameters":{"width":"1","smallInput":"false","channels":"3","blocks":"2,2,2,3"},"assembly":"ML.DeepExtensions.Vision"}]}""" },
        { "ResNet34()", """{"layers":[{"type":"Architecture","name":"ResNet34","parameters":{"width":"1","smallInput":"false","channels":"3"},"assembly":"ML.DeepExtensions.Vision"}]}""" },
        { "ResNet50()", """{"layers":[{"type":"Architecture","name":"ResNet50","parameters":{"width":"1","smallInput":"false","channels":"3"},"assembly":"ML.DeepExtensions.Vision"}]}""" },
        { "LeNet5()", """{"layers":[{"type":"Architecture","name":"LeNet5","parameters":{"width":"1","channels":"1","activation":"ReLU","pooling":"Max"},"assembly":"ML.DeepExtensions.Vision"}]}""" },
        { "LeNet5(activation: Tanh, pooling: Average)", """{"layers":[{"type":"Architecture","name":"LeNet5","parameters":{"width":"1","channels":"1","activation":"Tanh","pooling":"Average"},"assembly":"ML.DeepExtensions.Vision"}]}""" },
        { "AlexNet()", """{"layers":[{"type":"Architecture","name":"AlexNet","parameters":{"width":"1","hidden":"4096","dropout":"0.5","poolSize":"6","channels":"3"},"assembly":"ML.DeepExtensions.Vision"}]}""" },
        { "Vgg11()", """{"layers":[{"type":"Architecture","name":"Vgg11","parameters":{"width":"1","batchNorm":"false","hidden":"4096","dropout":"0.5","poolSize":"7","channels":"3"},"assembly":"ML.DeepExtensions.Vision"}]}""" },
        { "Vgg16(width: 0.25, batchNorm: true, hidden: 64, poolSize: 1)", """{"layers":[{"type":"Architecture","name":"Vgg16","parameters":{"width":"0.25","batchNorm":"true","hidden":"64","dropout":"0.5","poolSize":"1","channels":"3"},"assembly":"ML.DeepExtensions.Vision"}]}""" },
        { "EfficientNetB0()", """{"layers":[{"type":"Architecture","name":"EfficientNetB0","parameters":{"width":"1","depth":"1","dropout":"0.2","stochasticDepth":"0.2","channels":"3"},"assembly":"ML.DeepExtensions.Vision"}]}""" },
        { "MobileNetV2(width: 0.5)", """{"layers":[{"type":"Architecture","name":"MobileNetV2","parameters":{"width":"0.5","depth":"1","dropout":"0.2","channels":"3"},"assembly":"ML.DeepExtensions.Vision"}]}""" },
        { "Network.Mlp()", """{"layers":[{"type":"Architecture","name":"Mlp","parameters":{"hidden":"128,64","activation":"ReLU","dropout":"0","batchNorm":"0"}}]}""" },
    };

    private static Network Call(string call) => call switch
    {
        "ResNet18()" => VisionArchitectures.ResNet18(),
        "ResNet18(width: 0.25, smallInput: true)" => VisionArchitectures.ResNet18(width: 0.25, smallInput: true),
        "ResNet18(blocks: [2, 2, 2, 3])" => VisionArchitectures.ResNet18(blocks: [2, 2, 2, 3]),
        "ResNet34()" => VisionArchitectures.ResNet34(),
        "ResNet50()" => VisionArchitectures.ResNet50(),
        "LeNet5()" => VisionArchitectures.LeNet5(),
        "LeNet5(activation: Tanh, pooling: Average)" => VisionArchitectures.LeNet5(activation: ActivationKind.Tanh, pooling: PoolingKind.Average),
        "AlexNet()" => VisionArchitectures.AlexNet(),
        "Vgg11()" => VisionArchitectures.Vgg11(),
        "Vgg16(width: 0.25, batchNorm: true, hidden: 64, poolSize: 1)" => VisionArchitectures.Vgg16(width: 0.25, batchNorm: true, hidden: 64, poolSize: 1),
        "EfficientNetB0()" => VisionArchitectures.EfficientNetB0(),
        "MobileNetV2(width: 0.5)" => VisionArchitectures.MobileNetV2(width: 0.5),
        "Network.Mlp()" => Network.Mlp(),
        _ => throw new ArgumentOutOfRangeException(nameof(call), call, "no such call in the test"),
    };

    [Theory]
    [MemberData(nameof(JsonBeforeTypedParameters))]
    public void Factory_StoresByteIdenticalJson_AsBeforeTypedParameters(string call, string json)
    {
        Assert.Equal(json, Call(call).ToJson());
        Assert.Equal(json, Network.FromJson(json).ToJson());
    }

    private static string[] TypedNames()
    {
        Assert.NotEmpty(VisionArchitectures.All); // the zoo registers from its module initializer, run on first use
        return ArchitectureRegistry.Names.Where(n => ArchitectureRegistry.ParametersOf(n) is not null).ToArray();
    }

    public static TheoryData<string> TypedArchitectures() => new(TypedNames());

    [Fact]
    public void EveryZooArchitectureAndMlp_IsRegisteredWithTypedParameters()
    {
        var typed = TypedNames();
        Assert.Contains("Mlp", typed);
        Assert.All(VisionArchitectures.All, a => Assert.Contains(a.Name, typed));
    }

    [Theory]
    [MemberData(nameof(TypedArchitectures))]
    public void TypedParameters_RoundTripThroughTheStoredStrings(string name)
        => ArchitectureParameterRoundTrip.Check(ArchitectureRegistry.ParametersTypeOf(name)!);

    [Fact]
    public void Contract_ParametersAndChannels_AreGeneratedFromTheParameterClass()
    {
        var alexNet = VisionArchitectures.Get("AlexNet");
        Assert.Equal("Units of the two hidden Linear layers (default 4096).", alexNet.Parameters["hidden"]);
        Assert.Equal("Side of the adaptive average pool before the classifier (default 6).", alexNet.Parameters["poolSize"]);
        Assert.Equal("Side of the adaptive average pool before the classifier (default 7).", VisionArchitectures.Get("Vgg16").Parameters["poolSize"]);
        Assert.Equal(new[] { "width", "smallInput", "channels", "blocks" }, VisionArchitectures.Get("ResNet18").Parameters.Keys);
        Assert.StartsWith("Blocks per stage", VisionArchitectures.Get("ResNet50").Parameters["blocks"], StringComparison.Ordinal);
        Assert.Equal(new LeNet5Parameters().Channels, VisionArchitectures.Get("LeNet5").Channels);
        Assert.Equal(new ResNetParameters().Channels, VisionArchitectures.Get("ResNet18").Channels);
        foreach (var contract in VisionArchitectures.All)
        {
            var declared = ArchitectureRegistry.ParametersOf(contract.Name)!;
            Assert.Equal(declared.Select(p => p.Name), contract.Parameters.Keys);
            Assert.Equal(declared.Select(p => p.ToString()), contract.Parameters.Values);
        }
    }

    [Fact]
    public void TypedFactory_EqualsTheNamedArgumentFactory()
    {
        Assert.Equal(VisionArchitectures.ResNet18(width: 0.25, smallInput: true).ToJson(),
            VisionArchitectures.ResNet18(new ResNetParameters { Width = 0.25, SmallInput = true }).ToJson());
        Assert.Equal(VisionArchitectures.Vgg11(batchNorm: true, hidden: 64).ToJson(),
            VisionArchitectures.Vgg11(new VggParameters { BatchNorm = true, Hidden = 64 }).ToJson());
        Assert.Equal(VisionArchitectures.MobileNetV2().ToJson(), VisionArchitectures.MobileNetV2(new MobileNetV2Parameters()).ToJson());
        Assert.Throws<ArgumentOutOfRangeException>(() => VisionArchitectures.EfficientNetB0(new EfficientNetParameters { Channels = 0 }));
    }

    [Fact]
    public void UnknownParameterName_ThrowsNamingItAndListingTheValidOnes()
    {
        var network = Network.Create().Architecture("ResNet18", new Dictionary<string, string> { ["widht"] = "0.5" });
        var ex = Assert.Throws<ArgumentException>(() => network.OutputShape(3, 32, 32));
        Assert.Equal("widht", ex.ParamName);
        Assert.Contains("Architecture 'ResNet18' has no parameter 'widht'.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Valid parameters: width, smallInput, channels, blocks.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Received: widht='0.5'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadlyTypedValue_ThrowsTheArchitectureParameterMessage()
    {
        var ex = Assert.Throws<ArgumentException>(() => Network.Create().Architecture("AlexNet", new Dictionary<string, string> { ["hidden"] = "many" }).OutputShape(3, 63, 63));
        Assert.Equal("hidden", ex.ParamName);
        Assert.StartsWith("Architecture parameter 'hidden' must be a Int32. Received: hidden='many'", ex.Message, StringComparison.Ordinal);

        var pooling = Assert.Throws<ArgumentException>(() => Network.Create().Architecture("LeNet5", new Dictionary<string, string> { ["pooling"] = "Median" }).OutputShape(1, 28, 28));
        Assert.Contains("must be a PoolingKind (one of Max, Average). Received: pooling='Median'", pooling.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StoredNamesAndBooleans_ReadAsBefore_CaseInsensitiveAndOneOrZero()
    {
        var p = new ArchitectureParameters(new Dictionary<string, string> { ["SMALLINPUT"] = "1", ["Width"] = "0.5", ["blocks"] = " 2, 2,2 ,3" }).Bind<ResNetParameters>();
        Assert.True(p.SmallInput);
        Assert.Equal(0.5, p.Width);
        Assert.Equal(new[] { 2, 2, 2, 3 }, p.Blocks);
        Assert.Equal(new ResNetParameters().Channels, p.Channels);
    }
}

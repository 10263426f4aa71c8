using System;
using System.Linq;
using System.Text.Json.Serialization;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Networks;

// The registry is process-wide: every test registers its own names, so the tests do not depend on their order.
public class LayerRegistryTests
{
    /// <summary>A layer an outside assembly could write: multiplies by a fixed factor.</summary>
    public sealed class TimesLayer(double factor) : Layer
    {
        public double Factor { get; } = factor;

        public override string ToString() => $"Times({Factor})";

        public override int[] InferOutputShape(int[] input, int index) => (int[])input.Clone();

        public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new TimesModule(Factor);
    }

    /// <summary>Another class, for name collisions.</summary>
    public sealed class OtherTimesLayer(double factor) : Layer
    {
        public double Factor { get; } = factor;

        public override string ToString() => $"OtherTimes({Factor})";

        public override int[] InferOutputShape(int[] input, int index) => (int[])input.Clone();

        public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new TimesModule(Factor);
    }

    /// <summary>Owns a name another class then asks for.</summary>
    public sealed class NameOwnerLayer : Layer
    {
        public override string ToString() => "NameOwner";

        public override int[] InferOutputShape(int[] input, int index) => (int[])input.Clone();

        public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new TimesModule(1);
    }

    /// <summary>Registered only after networks have been written and read.</summary>
    public sealed class LateLayer(int units) : Layer
    {
        public int Units { get; } = units;

        public override string ToString() => $"Late({Units})";

        public override int[] InferOutputShape(int[] input, int index)
            => input.Length == 1 ? [Units] : throw ShapeError(index, input, "(features)");

        public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => nn.Linear(input[0], Units);
    }

    public sealed class NeverRegisteredLayer : Layer
    {
        public override string ToString() => "NeverRegistered";

        public override int[] InferOutputShape(int[] input, int index) => (int[])input.Clone();

        public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new TimesModule(1);
    }

    public sealed class TypePropertyLayer(string kind) : Layer
    {
        [JsonPropertyName("type")]
        public string Kind { get; } = kind;

        public override string ToString() => "TypeProperty";

        public override int[] InferOutputShape(int[] input, int index) => (int[])input.Clone();

        public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new TimesModule(1);
    }

    private sealed class TimesModule(double factor) : nn.Module<Tensor, Tensor>("Times")
    {
        public override Tensor forward(Tensor input) => input.mul(factor);
    }

    [Fact]
    public void CoreLayers_AreRegistered_UnderTheirVersionOneNames()
    {
        foreach (var name in new[] { "Activation", "AdaptiveAveragePool", "Architecture", "BatchNorm", "Convolution", "Dense", "Dropout", "Embedding",
                     "Flatten", "GlobalAveragePool", "LayerNorm", "Pooling", "Recurrent", "Reshape", "Residual", "SqueezeExcitation" })
            Assert.True(LayerRegistry.IsRegistered(name), name);
        Assert.Equal("Dense", LayerRegistry.TypeNameOf(typeof(DenseLayer)));
        Assert.Equal(LayerRegistry.TypeNames.OrderBy(n => n, StringComparer.Ordinal), LayerRegistry.TypeNames);
    }

    [Fact]
    public void RegisteredLayer_RoundTripsThroughJson_NamingItsAssembly_AndBuilds()
    {
        LayerRegistry.Register<TimesLayer>("RegistryTestTimes");
        LayerRegistry.Register<TimesLayer>("RegistryTestTimes");   // the same registration again is a no-op
        var network = Network.Create().Dense(3).Add(new TimesLayer(2.5)).Residual(Network.Create().Add(new TimesLayer(-1)));
        var json = network.ToJson();
        Assert.Contains("{\"type\":\"RegistryTestTimes\",\"assembly\":\"ML.DeepExtensions.Tests\",\"factor\":2.5}", json);
        Assert.Contains("{\"type\":\"Dense\",\"units\":3,\"useBias\":true}", json);   // core layers name no assembly
        var back = Network.FromJson(json);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(2.5, Assert.IsType<TimesLayer>(back.Layers[1]).Factor);
        Assert.Equal(-1, Assert.IsType<TimesLayer>(Assert.IsType<ResidualLayer>(back.Layers[2]).Body.Layers[0]).Factor);

        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        var module = back.Build([4], new BuildContext(generator));
        var x = torch.randn(2, 4);
        var dense = module.forward(x);
        Assert.Equal(new long[] { 2, 3 }, dense.shape);
        Assert.True(dense.abs().sum().ToSingle() == 0);   // (2.5·d) + (−1)·(2.5·d)
    }

    [Fact]
    public void Register_ANameTakenByAnotherClass_ThrowsNamingBothClasses()
    {
        LayerRegistry.Register<NameOwnerLayer>("RegistryTestTaken");
        var ex = Assert.Throws<ArgumentException>(() => LayerRegistry.Register<OtherTimesLayer>("RegistryTestTaken"));
        Assert.Equal("typeName", ex.ParamName);
        Assert.Contains("'RegistryTestTaken' is already registered for " + typeof(NameOwnerLayer).FullName, ex.Message);
        Assert.Contains(typeof(OtherTimesLayer).FullName!, ex.Message);
        Assert.Equal(typeof(NameOwnerLayer), LayerRegistry.Resolve("RegistryTestTaken", null));

        var core = Assert.Throws<ArgumentException>(() => LayerRegistry.Register<OtherTimesLayer>("Dense"));
        Assert.Contains("already registered for " + typeof(DenseLayer).FullName, core.Message);
    }

    [Fact]
    public void Register_AClassUnderASecondName_Throws()
    {
        LayerRegistry.Register<OtherTimesLayer>("RegistryTestFirstName");
        var ex = Assert.Throws<ArgumentException>(() => LayerRegistry.Register<OtherTimesLayer>("RegistryTestSecondName"));
        Assert.Contains("already registered as 'RegistryTestFirstName'", ex.Message);
        Assert.False(LayerRegistry.IsRegistered("RegistryTestSecondName"));
    }

    [Fact]
    public void Register_BadNamesAndReservedProperties_Throw()
    {
        Assert.Contains("Received: typeName=''", Assert.Throws<ArgumentException>(() => LayerRegistry.Register<NeverRegisteredLayer>("")).Message);
        Assert.Contains("Received: typeName='Has space'", Assert.Throws<ArgumentException>(() => LayerRegistry.Register<NeverRegisteredLayer>("Has space")).Message);
        // Names of layers that moved out of the core package stay theirs, whether or not the package is loaded yet.
        Assert.Contains("reserved for ML.DeepExtensions.Vision", Assert.Throws<ArgumentException>(() => LayerRegistry.Register<NeverRegisteredLayer>("Normalize")).Message);
        Assert.Contains("reserved for ML.DeepExtensions.Text", Assert.Throws<ArgumentException>(() => LayerRegistry.Register<NeverRegisteredLayer>("Transformer")).Message);
        var reserved = Assert.Throws<ArgumentException>(() => LayerRegistry.Register<TypePropertyLayer>("RegistryTestTypeProperty"));
        Assert.Contains("'type'", reserved.Message);
        Assert.False(LayerRegistry.IsRegistered("RegistryTestTypeProperty"));
    }

    [Fact]
    public void LayerRegisteredAfterNetworksWereWrittenAndRead_Works()
    {
        // Serializer options cache type information after first use; the registry must still be read on every call.
        var first = Network.Create().Dense(2).ToJson();
        Network.FromJson(first);
        var json = "{\"layers\":[{\"type\":\"RegistryTestLate\",\"assembly\":\"ML.DeepExtensions.Tests\",\"units\":5}]}";
        Assert.Throws<FormatException>(() => Network.FromJson(json));
        Assert.Throws<InvalidOperationException>(() => Network.Create().Add(new LateLayer(5)).ToJson());

        LayerRegistry.Register<LateLayer>("RegistryTestLate");

        Assert.Equal(json, Network.Create().Add(new LateLayer(5)).ToJson());
        var back = Network.FromJson(json);
        Assert.Equal(5, Assert.IsType<LateLayer>(back.Layers[0]).Units);
        Assert.Equal(new[] { 5 }, back.OutputShape(3));
    }

    [Fact]
    public void UnknownLayerType_InJson_ThrowsNamingTheTypeAndTheRegisteredOnes()
    {
        var ex = Assert.Throws<FormatException>(() => Network.FromJson("{\"layers\":[{\"type\":\"Dense\",\"units\":2},{\"type\":\"NoSuchLayer\",\"units\":2}]}"));
        Assert.Contains("Layer type 'NoSuchLayer' is not registered.", ex.Message);
        Assert.Contains("Registered: Activation, AdaptiveAveragePool, Architecture, BatchNorm, ", ex.Message);   // sorted; packages loaded by other tests add theirs
        Assert.Contains(", Convolution, ", ex.Message);
        Assert.Contains(", Dense, ", ex.Message);
        Assert.Contains("LayerRegistry.Register<TLayer>(\"NoSuchLayer\")", ex.Message);
    }

    [Fact]
    public void UnknownLayerType_FromAnAssemblyThatCannotBeLoaded_ThrowsNamingIt()
    {
        var ex = Assert.Throws<FormatException>(() => Network.FromJson("{\"layers\":[{\"type\":\"NoSuchLayer2\",\"assembly\":\"No.Such.Assembly\"}]}"));
        Assert.Contains("Layer type 'NoSuchLayer2' is not registered.", ex.Message);
        Assert.Contains("Assembly 'No.Such.Assembly', which the network names as its origin, could not be loaded", ex.Message);
    }

    [Fact]
    public void LayerWithoutType_InJson_ThrowsListingTheRegisteredOnes()
    {
        var ex = Assert.Throws<FormatException>(() => Network.FromJson("{\"layers\":[{\"units\":2}]}"));
        Assert.Contains("no \"type\"", ex.Message);
        Assert.Contains("Registered: Activation,", ex.Message);
    }

    [Fact]
    public void UnregisteredLayerClass_CannotBeSaved_AndTheMessageSaysHowToRegisterIt()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Network.Create().Add(new NeverRegisteredLayer()).ToJson());
        Assert.Contains(typeof(NeverRegisteredLayer).FullName!, ex.Message);
        Assert.Contains("LayerRegistry.Register<NeverRegisteredLayer>(\"NeverRegistered\")", ex.Message);
    }

    [Fact]
    public void LayersThatMovedOutOfTheCorePackage_AreFoundInTheirPackage()
    {
        // Version-1 networks name no assembly: these names are looked up in the package they moved to.
        foreach (var name in new[] { "Normalize", "RandomCrop", "RandomFlip", "RandomRotation", "ColorJitter", "RandomErasing" })
            Assert.Equal("ML.DeepExtensions.Vision", LayerRegistry.MovedFromCoreTo(name));
        foreach (var name in new[] { "TokenEmbedding", "TransformerBlock", "SequencePool", "Transformer" })
            Assert.Equal("ML.DeepExtensions.Text", LayerRegistry.MovedFromCoreTo(name));
        Assert.Null(LayerRegistry.MovedFromCoreTo("Dense"));
    }

    [Fact]
    public void CheckpointFingerprints_ThatDifferOnlyInRecordedAssemblies_MatchTheSameNetwork()
    {
        const string before = "(1, 8, 8) {\"layers\":[{\"type\":\"RandomFlip\",\"horizontal\":true},{\"type\":\"Dense\",\"units\":2,\"useBias\":true}]}";
        const string after = "(1, 8, 8) {\"layers\":[{\"type\":\"RandomFlip\",\"assembly\":\"ML.DeepExtensions.Vision\",\"horizontal\":true},{\"type\":\"Dense\",\"units\":2,\"useBias\":true}]}";
        Assert.True(Checkpoint.SameNetwork(before, after));
        Assert.False(Checkpoint.SameNetwork(before, after.Replace("\"units\":2", "\"units\":3")));
    }
}

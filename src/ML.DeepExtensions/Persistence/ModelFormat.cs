using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Persistence;

/// <summary>
/// How a <see cref="NeuralNetworkTransformer"/> lives in an ML.NET model zip: a JSON header (network, columns, classes,
/// history) in the model stream, followed by its integrity record (SHA-256 of the header and of the weights), and the
/// weights in a binary stream beside it. Versioned through ML.NET's <c>VersionInfo</c>; the loader assembly is recorded by
/// simple name so that zips saved by one version of the package load under the next. Loading checks everything before
/// trusting it: hashes (version 3), the weights stream's layout against its length, the network's size against the
/// weights before building it, every header field against the built network, and that no weight is NaN or infinite.
/// </summary>
internal static class ModelFormat
{
    public const string LoaderSignature = "MLDX.NeuralNetwork";
    private const string ModelSignature = "MLDXNNET";
    public const string WeightsStream = "Weights.bin";
    private const uint Version1 = 0x00010001;
    /// <summary>Layers declared outside the core package record their assembly in the network JSON (see <see cref="LayerRegistry"/>);
    /// version-1 networks name none, and the layer kinds that moved out of the core package since are found by their names.
    /// Version-1 code reads version 2: the layer names are unchanged and it ignores the extra property.</summary>
    private const uint Version2 = 0x00010002;
    /// <summary>An integrity record (SHA-256 of the header and of <see cref="WeightsStream"/>) follows the header; loading
    /// requires it from this version on. Earlier code cannot read version 3 (its model stream does not end after the header),
    /// so version 3 is also the oldest version that can read it.</summary>
    public const uint Version3 = 0x00010003;

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: ModelSignature,
        verWrittenCur: Version3,
        verReadableCur: Version3,
        verWeCanReadBack: Version1,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(ModelFormat).Assembly.GetName().Name);

    internal sealed record Header(
        NetworkTask Kind,
        string FeatureColumn,
        int[] InputShape,
        string Network,
        OutputColumnNames OutputColumns,
        int Outputs,
        string[]? ClassNames,
        List<EpochMetrics> History,
        int ScoringBatchSize,
        string? ClassValueType = null);

    public static void Save(ModelSaveContext ctx, NeuralNetworkTransformer transformer)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        var model = transformer.Model;
        var header = new Header(transformer.Kind, transformer.FeatureColumnName, model.InputShape, model.Network.ToJson(),
            transformer.OutputColumns, transformer.Head.Outputs, transformer.Head.ClassNames, transformer.History.ToList(), transformer.ScoringBatchSize, transformer.Head.ClassValueType);
        JsonHeader.Write(ctx, header, [(WeightsStream, SerializeWeights(model))]);
    }

    /// <summary>Called by ML.NET's component catalog when a zip names <see cref="LoaderSignature"/>.</summary>
    public static NeuralNetworkTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        var stored = JsonHeader.Read<Header>(ctx, "neural-network", hashed: ctx.Header.ModelVerWritten >= Version3);
        var header = stored.Header;
        if (CheckFields(header) is { } problem)
            throw stored.HeaderDamaged(problem);

        var model = LoadNetwork(env, stored, header.Network, header.InputShape, "network");
        try
        {
            var head = new ScoringHead(header.Kind, header.Outputs, header.ClassNames, header.OutputColumns, header.ClassValueType);
            if ((head.Problem(model.OutputSize) ?? BatchProblem(header.ScoringBatchSize, model.FeatureSize)) is { } mismatch)
                throw stored.HeaderDamaged(mismatch);
            return new NeuralNetworkTransformer(model, head, header.FeatureColumn, header.History, header.ScoringBatchSize);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>What is wrong with the header's own fields before any network is built, or null.</summary>
    internal static string? CheckFields(Header header)
    {
        if (string.IsNullOrWhiteSpace(header.FeatureColumn))
            return "has a header whose feature column name is empty";
        if (header.OutputColumns is null)
            return "has a header without output column names";
        if (header.History is null || header.History.Any(h => h is null))
            return "has a header without a training history";
        if (header.Network is null)
            return "has a header without a network";
        return null;
    }

    /// <summary>Why a scoring batch of <paramref name="batchSize"/> rows cannot be, or null.</summary>
    internal static string? BatchProblem(int batchSize, int featureSize)
    {
        if (batchSize <= 0)
            return $"has a header whose scoringBatchSize must be positive. Received: scoringBatchSize={batchSize}";
        if ((long)batchSize * featureSize > Array.MaxLength)
            return $"has a header whose scoringBatchSize={batchSize} makes one batch of {featureSize}-value rows larger than an array can hold";
        return null;
    }

    /// <summary>The weights stream of <paramref name="model"/>: TorchSharp's format (<c>Module.save</c>).</summary>
    public static byte[] SerializeWeights(NetworkModel model)
    {
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true))
            model.SaveWeights(writer);
        return memory.ToArray();
    }

    /// <summary>
    /// Builds the network described by <paramref name="networkJson"/> for <paramref name="inputShape"/> on the host's device
    /// and loads its weights from the zip, checking in this order: the description parses and fits the input shape; the
    /// weights stream is present (and matches its hash when <paramref name="stored"/> is hashed); its layout fits its length;
    /// the network cannot need more bytes than the stream holds (before anything is allocated); the built network's tensors
    /// have the stream's names, types and shapes; no floating-point weight is NaN or infinite. Each failure is an
    /// <see cref="InvalidDataException"/> naming the zip entry, and nothing native is left allocated.
    /// </summary>
    public static NetworkModel LoadNetwork<T>(IHostEnvironment env, StoredModel<T> stored, string networkJson, int[] inputShape, string what)
    {
        if (!IsFeatureShape(inputShape))
            throw stored.HeaderDamaged($"has a header whose input shape {(inputShape is null ? "is missing" : Shape.Format(inputShape))} is not a list of positive dimensions of at most 2^31 − 1 values");
        Network network;
        int[] outputShape;
        try
        {
            network = Network.FromJson(networkJson);
            outputShape = network.OutputShape(inputShape);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or InvalidOperationException
                                       or KeyNotFoundException or FileNotFoundException or FileLoadException or BadImageFormatException
                                       or OverflowException or DivideByZeroException)
        {
            throw stored.HeaderDamaged($"has a header whose {what} description is not valid for input shape {Shape.Format(inputShape)}: {ex.Message}", ex);
        }
        if (!IsFeatureShape(outputShape))
            throw stored.HeaderDamaged($"has a header whose {what} outputs {Shape.Format(outputShape)} values per example");

        var entry = stored.Entry(WeightsStream);
        var bytes = stored.ReadStream(WeightsStream, $"the {what} weights");
        IReadOnlyList<StoredTensor> tensors;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            tensors = TorchSharpWeights.Describe(stream);
        }
        catch (InvalidDataException ex)
        {
            throw ModelDamage.At(entry, $"(the {what} weights) is not a valid weights stream: {ex.Message}", ex);
        }

        var needed = NetworkWeightBound.LowerBound(network, inputShape);
        var held = tensors.Sum(t => t.Length);
        if (needed > held)
            throw stored.HeaderDamaged($"has a header whose {what} needs at least {needed:N0} bytes of weights, but '{entry}' holds {held:N0}: " +
                                       "the network description was altered");

        var settings = HostSettings.Read(env);
        NetworkModel model;
        try
        {
            model = NetworkModel.Build(network, inputShape, seed: 0, Runtime.Devices.Select(settings, channel: null));
        }
        catch (Exception ex) when (ex is ExternalException or OutOfMemoryException)
        {
            throw stored.HeaderDamaged($"has a header whose {what} cannot be built ({ex.GetType().Name}: {FirstLine(ex.Message)})", ex);
        }
        try
        {
            if (Mismatch(model, tensors) is { } mismatch)
                throw ModelDamage.At(entry, $"(the {what} weights) does not match the network in its header: {mismatch}");
            if (TorchSharpWeights.FirstNonFinite(bytes, tensors) is { } bad)
                throw ModelDamage.At(entry, $"(the {what} weights) holds NaN or infinite values in tensor '{bad.Name}' {bad.ShapeText}; a model with such weights gives NaN or meaningless scores");
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
            model.LoadWeights(reader);
            return model;
        }
        catch (Exception ex) when (ex is not InvalidDataException)
        {
            model.Dispose();
            throw ModelDamage.At(entry, $"(the {what} weights) cannot be loaded into its network ({ex.GetType().Name}: {FirstLine(ex.Message)})", ex);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Whether <paramref name="shape"/> has positive dimensions whose product is at most <see cref="int.MaxValue"/>.</summary>
    private static bool IsFeatureShape(int[]? shape)
    {
        if (shape is null || shape.Length == 0 || shape.Length > TorchSharpWeights.MaxDimensions)
            return false;
        long size = 1;
        foreach (var d in shape)
        {
            if (d <= 0)
                return false;
            size *= d;
            if (size > int.MaxValue)
                return false;
        }
        return true;
    }

    /// <summary>How the built network's state differs from the stream's tensors (names, element types, shapes), or null.</summary>
    private static string? Mismatch(NetworkModel model, IReadOnlyList<StoredTensor> tensors)
    {
        var state = model.Module.state_dict();
        var stored = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var (name, tensor) in state)
        {
            if (!stored.TryGetValue(name, out var entry))
                return $"the network has tensor '{name}', the stream does not";
            if (entry.DType != tensor.dtype)
                return $"tensor '{name}' holds {entry.DType} in the stream, the network needs {tensor.dtype}";
            if (!entry.Shape.AsSpan().SequenceEqual(tensor.shape))
                return $"tensor '{name}' has shape {entry.ShapeText} in the stream, the network needs [{string.Join(", ", tensor.shape)}]";
        }
        if (tensors.FirstOrDefault(t => !state.ContainsKey(t.Name)) is { } extra)
            return $"the stream has tensor '{extra.Name}', the network does not";
        return null;
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Persistence;

/// <summary>
/// How a <see cref="NeuralNetworkTransformer"/> lives in an ML.NET model zip: a JSON header (network,
/// columns, classes, history) in the model stream and the weights in a binary stream beside it. Versioned
/// through ML.NET's <c>VersionInfo</c>; the loader assembly is recorded by simple name so that zips saved by
/// one version of the package load under the next.
/// </summary>
internal static class ModelFormat
{
    public const string LoaderSignature = "MLDX.NeuralNetwork";
    private const string ModelSignature = "MLDXNNET";
    private const string WeightsStream = "Weights.bin";
    private const uint Version1 = 0x00010001;
    /// <summary>Layers declared outside the core package record their assembly in the network JSON (see <see cref="LayerRegistry"/>);
    /// version-1 networks name none, and the layer kinds that moved out of the core package since are found by their names.
    /// Version-1 code reads version 2: the layer names are unchanged and it ignores the extra property.</summary>
    private const uint Version2 = 0x00010002;

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: ModelSignature,
        verWrittenCur: Version2,
        verReadableCur: Version1,
        verWeCanReadBack: Version1,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(ModelFormat).Assembly.GetName().Name);

    private sealed record Header(
        NetworkTask Kind,
        string FeatureColumn,
        int[] InputShape,
        string Network,
        OutputColumnNames OutputColumns,
        int Outputs,
        string[]? ClassNames,
        List<EpochMetrics> History,
        int ScoringBatchSize);

    public static void Save(ModelSaveContext ctx, NeuralNetworkTransformer transformer)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        var model = transformer.Model;
        var header = new Header(transformer.Kind, transformer.FeatureColumnName, model.InputShape, model.Network.ToJson(),
            transformer.OutputColumns, transformer.Head.Outputs, transformer.Head.ClassNames, transformer.History.ToList(), transformer.ScoringBatchSize);
        JsonHeader.Write(ctx, header);
        SaveWeights(ctx, model);
    }

    /// <summary>Called by ML.NET's component catalog when a zip names <see cref="LoaderSignature"/>.</summary>
    public static NeuralNetworkTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        var header = JsonHeader.Read<Header>(ctx, "neural-network");

        var model = LoadNetwork(env, ctx, header.Network, header.InputShape, "network");
        var head = new ScoringHead(header.Kind, header.Outputs, header.ClassNames, header.OutputColumns);
        return new NeuralNetworkTransformer(model, head, header.FeatureColumn, header.History, header.ScoringBatchSize);
    }

    /// <summary>Writes <paramref name="model"/>'s weights into the zip's weights stream.</summary>
    public static void SaveWeights(ModelSaveContext ctx, NetworkModel model) => ctx.SaveBinaryStream(WeightsStream, model.SaveWeights);

    /// <summary>
    /// Builds the network described by <paramref name="networkJson"/> for <paramref name="inputShape"/> on the host's
    /// device and loads its weights from the zip; a missing or damaged weights stream becomes an
    /// <see cref="InvalidDataException"/> naming <paramref name="what"/>, and nothing native is left allocated.
    /// </summary>
    public static NetworkModel LoadNetwork(IHostEnvironment env, ModelLoadContext ctx, string networkJson, int[] inputShape, string what)
    {
        var network = Network.FromJson(networkJson);
        var settings = HostSettings.Read(env);
        var model = NetworkModel.Build(network, inputShape, seed: 0, Runtime.Devices.Select(settings, channel: null));
        try
        {
            if (!ctx.TryLoadBinaryStream(WeightsStream, model.LoadWeights))
                throw new InvalidDataException($"The model has no '{WeightsStream}' stream: the zip is incomplete.");
            return model;
        }
        catch (Exception ex) when (ex is not InvalidDataException)
        {
            model.Dispose();
            throw new InvalidDataException($"The {what} weights in the model are damaged or do not match its network ({ex.GetType().Name}: {ex.Message}).", ex);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}

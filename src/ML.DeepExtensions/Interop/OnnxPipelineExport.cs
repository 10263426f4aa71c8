using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions.Interop;

/// <summary>
/// The network step of a pipeline exported by ML.NET's <c>mlContext.Model.ConvertToOnnx</c>. ML.NET walks back from the
/// pipeline's output through the data views that implement its internal <c>ITransformCanSaveOnnx</c> and asks each to add
/// its nodes to an <see cref="OnnxContext"/>; <see cref="BatchedDataView"/> answers here by lowering the network (at opset
/// 11, which ML.NET's opsets 11 and 12 both accept) and replaying the nodes into that context, then writing the head's
/// columns with ML.NET's types: Score, Probability, PredictedLabel (Boolean for binary; for multiclass a UInt32 key,
/// 1-based, as ML.NET's own multiclass trainers export it). Anything that cannot be exported throws here, naming the step,
/// instead of letting ML.NET write a graph without the network.
/// </summary>
internal static class OnnxPipelineExport
{
    /// <summary>The opset the network is lowered at inside ML.NET's exporter (ML.NET writes 11 by default, at most 12).</summary>
    private const int PipelineOpset = 11;

    public static void Save(NeuralNetworkTransformer transformer, OnnxContext ctx)
    {
        MLNetInternals.SelfCheck();
        var step = $"the {transformer.Kind} network step (ML.DeepExtensions NeuralNetworkTransformer on column '{transformer.FeatureColumnName}')";
        try
        {
            ctx.CheckOpSetVersion(PipelineOpset, "ML.DeepExtensions NeuralNetworkTransformer");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new NotSupportedException($"ConvertToOnnx cannot export {step} below opset {PipelineOpset}: {ex.Message} Ask for opset 11 or 12, or use transformer.ExportToOnnx.", ex);
        }
        if (!ctx.ContainsColumn(transformer.FeatureColumnName))
            throw new NotSupportedException(
                $"ConvertToOnnx cannot export {step}: its input column '{transformer.FeatureColumnName}' is computed by an earlier step that " +
                "ML.NET cannot export to ONNX (image loading, custom mappings, expressions, …), so the network would be left out. " +
                $"Cut the pipeline before our step: convert the steps after that one, or export the network alone with ExportToOnnx and feed it '{transformer.FeatureColumnName}'. No model was written.");

        var graph = new OnnxGraphBuilder(PipelineOpset);
        var features = graph.Reserve("features");
        try
        {
            AddPipelineHead(graph, transformer.Head, NetworkOnnxExport.LowerFlat(graph, transformer.Model, features));
        }
        catch (NotSupportedException ex)
        {
            throw new NotSupportedException($"ConvertToOnnx cannot export {step}: {ex.Message}", ex);
        }

        var names = new Dictionary<string, string>(StringComparer.Ordinal) { [features] = ctx.GetVariableName(transformer.FeatureColumnName) };
        foreach (var tensor in graph.Initializers)
        {
            // Scalars through the scalar overloads: ML.NET's tensor overloads multiply the dims and reject an empty list.
            names[tensor.Name] = (tensor.Type, tensor.Dims.Length) switch
            {
                (OnnxElementType.Int64, 0) => ctx.AddInitializer(tensor.Longs![0], tensor.Name),
                (OnnxElementType.Int64, _) => ctx.AddInitializer(tensor.Longs!, tensor.Dims, tensor.Name),
                (_, 0) => ctx.AddInitializer(tensor.Floats![0], tensor.Name),
                _ => ctx.AddInitializer(tensor.Floats!, tensor.Dims, tensor.Name),
            };
        }
        var columns = transformer.Head.Columns.ToDictionary(c => c.Name, c => c.Type, StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            var inputs = node.Inputs.Select(i => i.Length == 0 ? "" : names[i]).ToArray();
            var outputs = node.Outputs.Select(o => names[o] = columns.TryGetValue(o, out var type)
                ? ctx.AddIntermediateVariable(type, o)
                : ctx.AddIntermediateVariable(null, o, true)).ToArray();
            var created = ctx.CreateNode(node.OpType, inputs, outputs, ctx.GetNodeName(node.OpType), "");
            foreach (var attribute in node.Attributes)
            {
                switch (attribute.Kind)
                {
                    case OnnxAttributeKind.Int:
                        created.AddAttribute(attribute.Name, attribute.IntValue);
                        break;
                    case OnnxAttributeKind.Float:
                        created.AddAttribute(attribute.Name, (double)attribute.FloatValue);
                        break;
                    case OnnxAttributeKind.Ints:
                        created.AddAttribute(attribute.Name, attribute.IntValues);
                        break;
                    case OnnxAttributeKind.Floats:
                        created.AddAttribute(attribute.Name, attribute.FloatValues);
                        break;
                    default:
                        created.AddAttribute(attribute.Name, attribute.StringValue);
                        break;
                }
            }
        }
    }

    /// <summary>The head with ML.NET's column conventions; node outputs named like the columns are mapped to them.</summary>
    private static void AddPipelineHead(OnnxGraphBuilder graph, ScoringHead head, string raw)
    {
        var names = head.Names;
        string Node(string op, IReadOnlyList<string> inputs, string? output, params OnnxAttribute[] attributes)
            => graph.AddNode(op, "head", inputs, 1, attributes, output is null ? null : [graph.Reserve(output)])[0];
        string Int64(params long[] values) => graph.AddInitializer(new OnnxTensorRecord("head.shape", OnnxElementType.Int64, [values.Length], Longs: values));

        switch (head.Kind)
        {
            case NetworkTask.Regression:
                Node("Reshape", [raw, Int64(-1, 1)], names.Score);
                break;
            case NetworkTask.BinaryClassification:
            {
                var score = Node("Reshape", [raw, Int64(-1, 1)], names.Score);
                Node("Sigmoid", [score], names.Probability);
                var zero = graph.AddInitializer(new OnnxTensorRecord("head.zero", OnnxElementType.Float, [], Floats: [0f]));
                Node("Greater", [score, zero], names.PredictedLabel);
                break;
            }
            case NetworkTask.MulticlassClassification:
            {
                Node("Softmax", [raw], names.Score, OnnxAttribute.Int("axis", 1));
                var index = Node("ArgMax", [raw], null, OnnxAttribute.Int("axis", 1), OnnxAttribute.Int("keepdims", 1));
                var key = Node("Add", [index, Int64(1)], null);
                Node("Cast", [key], names.PredictedLabel, OnnxAttribute.Int("to", 12)); // UInt32: ML.NET's key
                break;
            }
            default:
                Node("Identity", [raw], names.Features);
                break;
        }
    }
}

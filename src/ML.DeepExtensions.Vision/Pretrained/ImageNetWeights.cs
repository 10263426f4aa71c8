using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ML.DeepExtensions.Pretrained;
using TorchSharp;

namespace ML.DeepExtensions.Vision.Pretrained;

/// <summary>
/// Real ImageNet weights available offline. The NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>
/// (0.23.1) ships <c>DnnImageModels/ResNet18Onnx/ResNet18.onnx</c>, a CNTK export of an ImageNet-trained
/// residual network without its classifier. Read layer by layer, it is torchvision's <c>ResNet(BasicBlock, …)</c>
/// with <b>2, 2, 2, 3</b> basic blocks per stage — one block more in the last stage than torchvision's
/// <c>resnet18</c> (2, 2, 2, 2): 22 convolutions, 22 batch norms, 9 residual additions. Everything else maps
/// one to one: a 7×7/2 stem convolution without bias, batch norm as scale, bias, mean and variance with
/// ε = 1e-5, 3×3/2 max pooling, 1×1/2 projection shortcuts in stages 2–4, global average pooling to 512
/// features. CNTK pads strided layers asymmetrically (stem: 3 before, 2 after; strided 3×3 and the max pool:
/// 1 before, 0 after); torchvision pads both sides, but the extra trailing pad is never reached when the image
/// side is a multiple of 32 (224 is), so the outputs are the same. The imported tensors carry torchvision's
/// names (<c>layer4.2.conv1.weight</c> …) and order, without an <c>fc</c> head, so they load into a ResNet
/// built with blocks per stage 2, 2, 2, 3.
/// </summary>
/// <remarks>
/// Input contract of these weights (from the package's <c>ResNetPreprocess.onnx</c>, which takes RGB 0–255, reorders
/// the channels and subtracts the mean image): pixel values 0–255 in <b>BGR</b> channel order minus a 224×224 per-pixel mean image whose channel averages are B 103.1, G 115.9,
/// R 123.2 (Caffe/CNTK's ImageNet means) — not torchvision's RGB 0–1 with ImageNet mean/std, and no division
/// by a standard deviation. A network fine-tuned from them must be fed the same way: <see cref="ResNet18(string?)"/>
/// gives weights, network and normalisation that do this inside <c>CnnImageClassifier</c>'s RGB pipeline.
/// </remarks>
public static class ImageNetWeights
{
    /// <summary>Path of the ResNet-18 model relative to the application's output directory when the NuGet package is referenced (its build props copy it there).</summary>
    public const string ResNet18OnnxRelativePath = "DnnImageModels/ResNet18Onnx/ResNet18.onnx";

    /// <summary>Per-channel averages of the model's mean image in its input order (B, G, R), to subtract from 0–255 pixel values.</summary>
    public static IReadOnlyList<float> ResNet18OnnxChannelMeansBgr { get; } = [103.06f, 115.90f, 123.15f];

    /// <summary>The same means in the trainer's channel order (R, G, B).</summary>
    public static IReadOnlyList<float> ResNet18OnnxChannelMeansRgb { get; } = [.. ResNet18OnnxChannelMeansBgr.Reverse()];

    /// <summary>Basic blocks per stage of the network in <c>ResNet18.onnx</c>: 2, 2, 2, 3 (what <see cref="ReadBlocksPerStage"/> finds in the file).</summary>
    public static IReadOnlyList<int> ResNet18OnnxBlocksPerStage { get; } = [2, 2, 2, 3];

    /// <summary>Reads the basic blocks per stage of a ResNet ONNX model (for building the network its weights fit).</summary>
    /// <param name="onnxPath">Path of the ONNX model.</param>
    /// <exception cref="PretrainedWeightsException">The model is not a ResNet of basic blocks.</exception>
    public static int[] ReadBlocksPerStage(string onnxPath)
    {
        var full = Path.GetFullPath(Guard.NotEmpty(onnxPath));
        if (!File.Exists(full))
            throw new FileNotFoundException($"ONNX model '{full}' not found.", full);
        using var scope = torch.NewDisposeScope();
        return ResNetOnnxImporter.ReadWithStages(full).BlocksPerStage;
    }

    /// <summary>
    /// The ImageNet ResNet-18 ready for <c>CnnImageClassifier</c>: weights with the first convolution reordered for RGB
    /// input, the network they fit (<c>VisionArchitectures.ResNet18(blocks: [2, 2, 2, 3])</c>) and the input contract
    /// (3×224×224 or any multiple of 32; mean = RGB channel means / 255, std = 1/255). Start from
    /// <see cref="ImageNetBackbone.CreateClassifierOptions"/>.
    /// </summary>
    /// <param name="onnxPath">Path of <c>ResNet18.onnx</c>; default <see cref="ResNet18OnnxRelativePath"/> under the application's
    /// directory, where referencing the NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> (0.23.1) copies it. Nothing is downloaded.</param>
    /// <exception cref="FileNotFoundException">The file does not exist; the message names the package and the path looked at.</exception>
    /// <remarks>
    /// The package's pipeline subtracts a 224×224 per-pixel mean image (in <c>ResNetPreprocess.onnx</c>); this contract
    /// subtracts its per-channel averages instead, which is what makes other image sizes possible. The two differ by at
    /// most 12.7 grey levels per pixel, and the 512 features by 3–6 % (relative L2, measured on a photo and two
    /// Fashion-MNIST images); a trained output layer absorbs it (see docs/transfer-learning.md).
    /// </remarks>
    public static ImageNetBackbone ResNet18(string? onnxPath = null)
    {
        var full = Path.GetFullPath(onnxPath ?? Path.Combine(AppContext.BaseDirectory, ResNet18OnnxRelativePath));
        if (!File.Exists(full))
            throw new FileNotFoundException(
                $"ONNX model '{full}' not found. Reference the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 (0.23.1), which copies it to " +
                $"{ResNet18OnnxRelativePath} in the output directory, or pass its path as onnxPath; weights are never downloaded.", full);
        var weights = PretrainedWeights.FromReader(full, () => ResNetOnnxImporter.Read(full).Select((t, i) => i == 0 ? ToRgb(t) : t).ToArray());
        var network = Zoo.VisionArchitectures.ResNet18(blocks: [.. ResNet18OnnxBlocksPerStage]);
        var mean = ResNet18OnnxChannelMeansRgb.Select(m => m / 255f).ToArray();
        var std = Enumerable.Repeat(1f / 255, 3).ToArray();
        return new ImageNetBackbone("ResNet18 (2, 2, 2, 3 blocks), ImageNet, from Microsoft.ML.DnnImageFeaturizer.ResNet18", weights, network, mean, std,
            height: 224, width: 224, sizeMultiple: 32, features: 512);
    }

    /// <summary>The stem convolution with its input channels reversed: its B, G, R filters become R, G, B.</summary>
    private static SourceTensor ToRgb(SourceTensor stem)
    {
        if (stem.Name != "conv1.weight" || stem.Tensor.dim() != 4 || stem.Tensor.shape[1] != 3)
            throw new InvalidOperationException($"Expected the 3-channel stem convolution first, got '{stem.Name}' [{string.Join(", ", stem.Tensor.shape)}].");
        return new SourceTensor(stem.Name, stem.Tensor.flip(1));
    }

    /// <summary>The ImageNet backbone of <c>ResNet18.onnx</c>, as torchvision-ordered weights (no classifier head), in the file's BGR input order.
    /// For the trainer (RGB input) use <see cref="ResNet18(string?)"/>.</summary>
    /// <param name="onnxPath">Path of <c>ResNet18.onnx</c> (see <see cref="ResNet18OnnxRelativePath"/>).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <remarks>Reading happens when the weights are applied; an ONNX file of another structure fails then with a <see cref="PretrainedWeightsException"/> saying what differs.</remarks>
    public static PretrainedWeights ResNet18FromOnnx(string onnxPath)
    {
        Guard.NotEmpty(onnxPath);
        var full = Path.GetFullPath(onnxPath);
        if (!File.Exists(full))
            throw new FileNotFoundException(
                $"ONNX model '{full}' not found. It ships in the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 as {ResNet18OnnxRelativePath}; weights are never downloaded.", full);
        return PretrainedWeights.FromReader(full, () => ResNetOnnxImporter.Read(full));
    }
}

/// <summary>Walks an ONNX ResNet graph (Conv → BatchNormalization → Relu … Add) and names its tensors like torchvision.</summary>
internal static class ResNetOnnxImporter
{
    public static IReadOnlyList<SourceTensor> Read(string path) => ReadWithStages(path).Tensors;

    /// <summary>The tensors in torchvision's order and the number of basic blocks found in each stage.</summary>
    public static (IReadOnlyList<SourceTensor> Tensors, int[] BlocksPerStage) ReadWithStages(string path)
    {
        OnnxGraph graph;
        try
        {
            graph = OnnxGraph.Read(path);
        }
        catch (Exception ex) when (ex is Google.Protobuf.InvalidProtocolBufferException or InvalidDataException)
        {
            throw new PretrainedWeightsException(path, $"'{path}' is not a readable ONNX model: {ex.Message}", ex);
        }
        var producer = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            foreach (var output in node.Outputs)
                producer[output] = node;

        var result = new List<SourceTensor>();
        var convs = graph.Nodes.Where(n => n.OpType == "Conv").ToArray();
        var stem = convs.FirstOrDefault(c => !producer.ContainsKey(c.Inputs[0]))
                   ?? throw Structure(path, "no convolution reads the graph input");
        CheckConv(path, stem, kernel: 7, stride: 2, pad: 3);
        AddConvBn(graph, path, result, "", "conv1", "bn1", stem, Consumer(graph, stem, "BatchNormalization", path));

        var adds = graph.Nodes.Where(n => n.OpType == "Add").ToArray();
        if (adds.Length == 0)
            throw Structure(path, "it has no residual additions");
        // Stages are found, not assumed: a block with a strided projection shortcut starts a new stage.
        int stage = 1, block = -1;
        var blocksPerStage = new List<int> { 0 };
        foreach (var add in adds)
        {
            var branches = add.Inputs.Select(i => producer.GetValueOrDefault(i)).ToArray();
            // The main path ends in BN ← Conv ← Relu ← BN ← Conv; the shortcut is the block input or BN ← 1×1 Conv.
            var main = branches.FirstOrDefault(n => n?.OpType == "BatchNormalization" && Producer(producer, n, 0)?.OpType == "Conv"
                                                     && Producer(producer, Producer(producer, n, 0)!, 0)?.OpType == "Relu")
                       ?? throw Structure(path, $"the residual addition '{add.Name}' has no Conv-BN-ReLU-Conv-BN branch");
            var shortcut = branches.First(n => !ReferenceEquals(n, main));
            var projection = shortcut?.OpType == "BatchNormalization" ? Producer(producer, shortcut, 0) : null;
            if (projection is { OpType: "Conv" } && block >= 0)
            {
                stage++;
                block = 0;
                blocksPerStage.Add(0);
            }
            else
                block++;
            blocksPerStage[^1]++;
            var prefix = $"layer{stage}.{block}.";
            var conv2 = Producer(producer, main, 0)!;
            var bn1 = Producer(producer, Producer(producer, conv2, 0)!, 0)
                      ?? throw Structure(path, $"'{conv2.Name}' does not follow a batch norm");
            var conv1 = Producer(producer, bn1, 0);
            if (bn1.OpType != "BatchNormalization" || conv1?.OpType != "Conv")
                throw Structure(path, $"block {prefix} does not start with Conv → BatchNormalization");
            var stride = projection is { OpType: "Conv" } && stage > 1 ? 2 : 1;
            CheckConv(path, conv1, kernel: 3, stride: stride, pad: 1);
            CheckConv(path, conv2, kernel: 3, stride: 1, pad: 1);
            AddConvBn(graph, path, result, prefix, "conv1", "bn1", conv1, bn1);
            AddConvBn(graph, path, result, prefix, "conv2", "bn2", conv2, main);
            if (projection is { OpType: "Conv" })
            {
                CheckConv(path, projection, kernel: 1, stride: stride, pad: 0);
                AddConvBn(graph, path, result, prefix, "downsample.0", "downsample.1", projection, shortcut!);
            }
        }
        if (blocksPerStage.Count != 4)
            throw Structure(path, $"it has {blocksPerStage.Count} stages of basic blocks; torchvision's ResNets have 4");
        return (result, blocksPerStage.ToArray());
    }

    private static OnnxNode? Producer(Dictionary<string, OnnxNode> producer, OnnxNode node, int input)
        => node.Inputs.Count > input ? producer.GetValueOrDefault(node.Inputs[input]) : null;

    private static OnnxNode Consumer(OnnxGraph graph, OnnxNode node, string opType, string path)
        => graph.Nodes.FirstOrDefault(n => n.OpType == opType && n.Inputs.Count > 0 && n.Inputs[0] == node.Outputs[0])
           ?? throw Structure(path, $"'{node.Name}' is not followed by {opType}");

    private static void CheckConv(string path, OnnxNode conv, int kernel, int stride, int pad)
    {
        var k = conv.Attribute("kernel_shape");
        var s = conv.Attribute("strides", 1, 1);
        var p = conv.Attribute("pads", 0, 0, 0, 0);
        var g = conv.Attribute("group", 1);
        var d = conv.Attribute("dilations", 1, 1);
        // Leading pads must equal torchvision's; trailing pads may be smaller (CNTK's asymmetric "same" padding):
        // with stride 2 and even input sizes the trailing pad is never reached.
        var ok = k.SequenceEqual(new long[] { kernel, kernel }) && s.SequenceEqual(new long[] { stride, stride }) && g.SequenceEqual(new long[] { 1 })
                 && d.All(x => x == 1) && p.Length == 4 && p[0] == pad && p[1] == pad && p[2] <= pad && p[3] <= pad
                 && (stride > 1 || (p[2] == pad && p[3] == pad)) && conv.Inputs.Count == 2;
        if (!ok)
            throw Structure(path, $"convolution '{conv.Name}' has kernel [{string.Join(",", k)}], strides [{string.Join(",", s)}], pads [{string.Join(",", p)}], " +
                                  $"{conv.Inputs.Count - 1} weight inputs; torchvision's ResNet-18 has kernel {kernel}, stride {stride}, padding {pad}, no bias here");
    }

    private static void AddConvBn(OnnxGraph graph, string path, List<SourceTensor> result, string prefix, string convName, string bnName, OnnxNode conv, OnnxNode bn)
    {
        if (bn.OpType != "BatchNormalization" || bn.Inputs.Count != 5)
            throw Structure(path, $"'{conv.Name}' is not followed by a batch norm with scale, bias, mean and variance");
        if (bn.Floats.TryGetValue("epsilon", out var epsilon) && Math.Abs(epsilon - 1e-5) > 1e-7)
            throw Structure(path, $"batch norm '{bn.Name}' has epsilon {epsilon}; torchvision uses 1e-5");
        result.Add(Tensor(graph, path, prefix + convName + ".weight", conv.Inputs[1]));
        string[] parts = ["weight", "bias", "running_mean", "running_var"];
        for (var i = 0; i < parts.Length; i++)
            result.Add(Tensor(graph, path, $"{prefix}{bnName}.{parts[i]}", bn.Inputs[i + 1]));
    }

    private static SourceTensor Tensor(OnnxGraph graph, string path, string name, string initializer)
    {
        if (!graph.Initializers.TryGetValue(initializer, out var init) || init.Values is null)
            throw Structure(path, $"'{initializer}' (for {name}) is not a float initializer");
        if (init.Values.LongLength != init.Dims.Aggregate(1L, (a, d) => a * d))
            throw Structure(path, $"initializer '{initializer}' has {init.Values.Length} values for shape [{string.Join(",", init.Dims)}]");
        return new SourceTensor(name, torch.tensor(init.Values, init.Dims));
    }

    private static PretrainedWeightsException Structure(string path, string why)
        => new(path, $"ONNX model '{path}' does not map onto torchvision's ResNet-18: {why}.");
}

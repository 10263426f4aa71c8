using System;
using System.Linq;
using ML.DeepExtensions.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Networks;

/// <summary>Fully connected layer applied to the last dimension: <c>(…, n) → (…, units)</c>.</summary>
public sealed class DenseLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="units">Output features, &gt; 0.</param>
    /// <param name="useBias">Whether the layer adds a learned bias (default true).</param>
    public DenseLayer(int units, bool useBias = true)
    {
        Units = Guard.Positive(units);
        UseBias = useBias;
    }

    /// <summary>Output features.</summary>
    public int Units { get; }

    /// <summary>Whether a bias is learned.</summary>
    public bool UseBias { get; }

    /// <inheritdoc />
    public override string ToString() => $"Dense({Units})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        if (input.Length == 0)
            throw ShapeError(index, input, "with at least one dimension");
        var output = Shape.Copy(input);
        output[^1] = Units;
        return output;
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => nn.Linear(input[^1], Units, UseBias);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        var bias = UseBias ? context.Initializer("bias") : "";
        if (context.InputShape.Count == 1)
            return context.Node("Gemm", UseBias ? [context.Input, context.Initializer("weight"), bias] : [context.Input, context.Initializer("weight")], OnnxAttribute.Int("transB", 1));
        using var transposed = context.Weight("weight").t();
        var product = context.Node("MatMul", [context.Input, context.Initializer("weight_t", transposed)]);
        return UseBias ? context.Node("Add", [product, bias]) : product;
    }
}

/// <summary>
/// Convolution over <c>(channels, length)</c> (1-D) or <c>(channels, height, width)</c> (2-D, square kernel).
/// Grouped convolutions split the channels into <see cref="Groups"/> independent groups; a depthwise convolution
/// has as many groups as channels (and as many filters, or a multiple).
/// </summary>
public sealed class ConvolutionLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="dimensions">1 or 2 spatial dimensions.</param>
    /// <param name="filters">Output channels, &gt; 0, divisible by <paramref name="groups"/>.</param>
    /// <param name="kernelSize">Window side, &gt; 0.</param>
    /// <param name="stride">Step, &gt; 0 (default 1).</param>
    /// <param name="padding">Zeros added on each side, ≥ 0 (default 0).</param>
    /// <param name="groups">Channel groups, &gt; 0; input channels and filters must both be divisible by it (default 1).</param>
    /// <param name="useBias">Whether the layer adds a learned bias (default true; false before batch normalization).</param>
    public ConvolutionLayer(int dimensions, int filters, int kernelSize, int stride = 1, int padding = 0, int groups = 1, bool useBias = true)
    {
        if (dimensions is not (1 or 2))
            throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, $"dimensions must be 1 or 2. Received: dimensions={dimensions}");
        Dimensions = dimensions;
        Filters = Guard.Positive(filters);
        KernelSize = Guard.Positive(kernelSize);
        Stride = Guard.Positive(stride);
        Padding = Guard.NonNegative(padding);
        Groups = Guard.Positive(groups);
        if (filters % groups != 0)
            throw new ArgumentException($"filters must be divisible by groups. Received: filters={filters}, groups={groups}", nameof(filters));
        UseBias = useBias;
    }

    /// <summary>1 or 2.</summary>
    public int Dimensions { get; }
    /// <summary>Output channels.</summary>
    public int Filters { get; }
    /// <summary>Window side.</summary>
    public int KernelSize { get; }
    /// <summary>Step.</summary>
    public int Stride { get; }
    /// <summary>Zero padding on each side.</summary>
    public int Padding { get; }
    /// <summary>Channel groups (1 = ordinary convolution; input channels = depthwise).</summary>
    public int Groups { get; }
    /// <summary>Whether a bias is learned.</summary>
    public bool UseBias { get; }

    /// <inheritdoc />
    public override string ToString()
    {
        var extra = (Groups == 1 ? "" : $", groups {Groups}") + (UseBias ? "" : ", no bias");
        return Dimensions == 1
            ? $"Conv1d({Filters}, kernel {KernelSize}, stride {Stride}, padding {Padding}{extra})"
            : $"Conv2d({Filters}, {KernelSize}x{KernelSize}, stride {Stride}, padding {Padding}{extra})";
    }

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        if (input.Length != Dimensions + 1)
        {
            var expected = Dimensions == 1 ? "(channels, length)" : "(channels, height, width)";
            throw ShapeError(index, input, $"{expected}; add Reshape{expected} before it");
        }
        if (input[0] % Groups != 0)
            throw ShapeError(index, input, $"a channel count divisible by groups={Groups}");
        var output = new int[input.Length];
        output[0] = Filters;
        for (var i = 1; i < input.Length; i++)
        {
            output[i] = Shape.Window(input[i], KernelSize, Stride, Padding);
            if (output[i] <= 0)
                throw ShapeError(index, input, $"spatial sizes of at least {KernelSize - 2 * Padding}");
        }
        return output;
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
    {
        // TorchSharp's convolutions allocate their weights through a temporary tensor they never dispose; its setters
        // detach the parameters from the current scope, so this scope frees only that temporary (no live tensor is left
        // behind once the model is disposed).
        using var scope = torch.NewDisposeScope();
        return Dimensions == 1
            ? nn.Conv1d(input[0], Filters, KernelSize, Stride, Padding, groups: Groups, bias: UseBias)
            : nn.Conv2d(input[0], Filters, KernelSize, Stride, Padding, groups: Groups, bias: UseBias);
    }

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        var inputs = UseBias
            ? new[] { context.Input, context.Initializer("weight"), context.Initializer("bias") }
            : [context.Input, context.Initializer("weight")];
        return context.Node("Conv", inputs,
            OnnxAttribute.Ints("kernel_shape", Enumerable.Repeat((long)KernelSize, Dimensions).ToArray()),
            OnnxAttribute.Ints("strides", Enumerable.Repeat((long)Stride, Dimensions).ToArray()),
            OnnxAttribute.Ints("pads", Enumerable.Repeat((long)Padding, 2 * Dimensions).ToArray()),
            OnnxAttribute.Int("group", Groups));
    }
}

/// <summary>Kind of window pooling.</summary>
public enum PoolingKind
{
    /// <summary>Maximum over the window.</summary>
    Max,
    /// <summary>Mean over the window.</summary>
    Average,
}

/// <summary>Max or average pooling over <c>(channels, length)</c> (1-D) or <c>(channels, height, width)</c> (2-D).</summary>
public sealed class PoolingLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="kind">Max or average.</param>
    /// <param name="dimensions">1 or 2 spatial dimensions.</param>
    /// <param name="kernelSize">Window side, &gt; 0.</param>
    /// <param name="stride">Step, &gt; 0; 0 means equal to <paramref name="kernelSize"/> (default).</param>
    /// <param name="padding">Implicit padding on each side, 0 … kernelSize/2 (default 0). Max pooling pads with −∞,
    /// average pooling with zeros that count in the mean (PyTorch's defaults).</param>
    public PoolingLayer(PoolingKind kind, int dimensions, int kernelSize, int stride = 0, int padding = 0)
    {
        if (dimensions is not (1 or 2))
            throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, $"dimensions must be 1 or 2. Received: dimensions={dimensions}");
        Kind = kind;
        Dimensions = dimensions;
        KernelSize = Guard.Positive(kernelSize);
        Stride = stride == 0 ? kernelSize : Guard.Positive(stride);
        Padding = Guard.NonNegative(padding);
        if (2 * padding > kernelSize)
            throw new ArgumentOutOfRangeException(nameof(padding), padding, $"padding must be at most half the kernel size ({kernelSize / 2}). Received: padding={padding}");
    }

    /// <summary>Max or average.</summary>
    public PoolingKind Kind { get; }
    /// <summary>1 or 2.</summary>
    public int Dimensions { get; }
    /// <summary>Window side.</summary>
    public int KernelSize { get; }
    /// <summary>Step.</summary>
    public int Stride { get; }
    /// <summary>Implicit padding on each side.</summary>
    public int Padding { get; }

    /// <inheritdoc />
    public override string ToString()
        => $"{Kind}Pool{Dimensions}d({KernelSize}, stride {Stride}{(Padding == 0 ? "" : $", padding {Padding}")})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        if (input.Length != Dimensions + 1)
            throw ShapeError(index, input, Dimensions == 1 ? "(channels, length)" : "(channels, height, width)");
        var output = Shape.Copy(input);
        for (var i = 1; i < output.Length; i++)
        {
            output[i] = Shape.Window(input[i], KernelSize, Stride, Padding);
            if (output[i] <= 0)
                throw ShapeError(index, input, $"spatial sizes of at least {KernelSize - 2 * Padding}");
        }
        return output;
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => (Kind, Dimensions) switch
    {
        (PoolingKind.Max, 1) => nn.MaxPool1d(KernelSize, Stride, Padding),
        (PoolingKind.Max, _) => nn.MaxPool2d(KernelSize, Stride, Padding),
        (PoolingKind.Average, 1) => nn.AvgPool1d(KernelSize, Stride, Padding),
        _ => nn.AvgPool2d(KernelSize, Stride, Padding),
    };

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        var window = new[]
        {
            OnnxAttribute.Ints("kernel_shape", Enumerable.Repeat((long)KernelSize, Dimensions).ToArray()),
            OnnxAttribute.Ints("strides", Enumerable.Repeat((long)Stride, Dimensions).ToArray()),
            OnnxAttribute.Ints("pads", Enumerable.Repeat((long)Padding, 2 * Dimensions).ToArray()),
        };
        // PyTorch's average pooling counts padded zeros in the mean (count_include_pad=True).
        return Kind == PoolingKind.Max
            ? context.Node("MaxPool", [context.Input], window)
            : context.Node("AveragePool", [context.Input], [.. window, OnnxAttribute.Int("count_include_pad", 1)]);
    }
}

/// <summary>
/// Average pooling to a fixed <c>outputSize × outputSize</c> grid whatever the input size, like PyTorch's
/// <c>AdaptiveAvgPool2d</c>: <c>(channels, height, width) → (channels, outputSize, outputSize)</c>. Inputs smaller
/// than the grid are upsampled by repetition.
/// </summary>
public sealed class AdaptiveAveragePoolLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="outputSize">Side of the output grid, &gt; 0.</param>
    public AdaptiveAveragePoolLayer(int outputSize) => OutputSize = Guard.Positive(outputSize);

    /// <summary>Side of the output grid.</summary>
    public int OutputSize { get; }

    /// <inheritdoc />
    public override string ToString() => $"AdaptiveAvgPool2d({OutputSize}x{OutputSize})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length == 3 ? [input[0], OutputSize, OutputSize] : throw ShapeError(index, input, "(channels, height, width)");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => nn.AdaptiveAvgPool2d(new long[] { OutputSize, OutputSize });

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        var (height, width) = (context.InputShape[1], context.InputShape[2]);
        if (height % OutputSize == 0 && width % OutputSize == 0)
        {
            // Equal bins: an ordinary average pooling.
            var (kh, kw) = (height / OutputSize, width / OutputSize);
            return context.Node("AveragePool", [context.Input], OnnxAttribute.Ints("kernel_shape", kh, kw), OnnxAttribute.Ints("strides", kh, kw));
        }
        // PyTorch's bins: [floor(i·n/out), ceil((i+1)·n/out)), possibly overlapping; one slice and mean per bin, rows then columns.
        var rows = PoolBins(context, context.Input, 2, height);
        return PoolBins(context, rows, 3, width);
    }

    private string PoolBins(OnnxLoweringContext context, string input, long axis, int size)
    {
        var bins = new string[OutputSize];
        for (var i = 0; i < OutputSize; i++)
        {
            var start = i * size / OutputSize;
            var end = ((i + 1) * size + OutputSize - 1) / OutputSize;
            var slice = context.Node("Slice", [input, context.Int64Constant(start), context.Int64Constant(end), context.Int64Constant(axis)]);
            bins[i] = context.ReduceMean(slice, [axis], keepDims: true);
        }
        return bins.Length == 1 ? bins[0] : context.Node("Concat", bins, OnnxAttribute.Int("axis", axis));
    }
}

/// <summary>Mean over every spatial position: <c>(channels, …) → (channels)</c>.</summary>
public sealed class GlobalAveragePoolLayer : Layer
{
    /// <inheritdoc />
    public override string ToString() => "GlobalAveragePool";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length >= 2 ? [input[0]] : throw ShapeError(index, input, "(channels, spatial…) with at least one spatial dimension");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => new GlobalAveragePoolModule();

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
        => Guard.NotNull(context).ReduceMean(context.Input, Enumerable.Range(2, context.InputShape.Count - 1).Select(a => (long)a).ToArray(), keepDims: false);
}

/// <summary>Flattens everything but the batch dimension.</summary>
public sealed class FlattenLayer : Layer
{
    /// <inheritdoc />
    public override string ToString() => "Flatten";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index) => [checked((int)Shape.Size(input))];

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => nn.Flatten();

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
        => Guard.NotNull(context).Node("Flatten", [context.Input], OnnxAttribute.Int("axis", 1));
}

/// <summary>Reshapes each example; at most one dimension may be −1 (inferred).</summary>
public sealed class ReshapeLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="shape">Target shape without the batch dimension, e.g. <c>(1, 8, 8)</c>.</param>
    public ReshapeLayer(params int[] shape)
    {
        Guard.NotNull(shape);
        if (shape.Length == 0 || shape.Any(d => d == 0 || d < -1) || shape.Count(d => d == -1) > 1)
            throw new ArgumentException($"shape must be non-empty positive dimensions with at most one -1. Received: shape={Networks.Shape.Format(shape)}", nameof(shape));
        this.Shape = Networks.Shape.Copy(shape);
    }

    /// <summary>Target shape; −1 marks the inferred dimension.</summary>
    public int[] Shape { get; }

    /// <inheritdoc />
    public override string ToString() => $"Reshape{Networks.Shape.Format(Shape)}";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        var size = Networks.Shape.Size(input);
        var known = Shape.Where(d => d > 0).Aggregate(1L, (a, d) => a * d);
        var output = Networks.Shape.Copy(Shape);
        var inferred = Array.IndexOf(output, -1);
        if (inferred >= 0)
        {
            if (size % known != 0)
                throw ShapeError(index, input, $"a size divisible by {known} to reshape to {Networks.Shape.Format(Shape)}");
            output[inferred] = (int)(size / known);
        }
        else if (known != size)
        {
            throw ShapeError(index, input, $"{known} values in total to reshape to {Networks.Shape.Format(Shape)}");
        }
        return output;
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new ReshapeModule(InferOutputShape(input, 0));

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
        => Guard.NotNull(context).ReshapeExamples(context.Input, context.OutputShape);
}

/// <summary>Batch normalization over the channel dimension (the first one): works after Dense and convolutions.</summary>
public sealed class BatchNormLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="momentum">Running-statistics momentum in (0, 1] (default 0.1).</param>
    /// <param name="epsilon">Added to the variance, &gt; 0 (default 1e-5).</param>
    public BatchNormLayer(double momentum = 0.1, double epsilon = 1e-5)
    {
        Momentum = Guard.InRange(momentum, double.Epsilon, 1, maxInclusive: true);
        Epsilon = Guard.Positive(epsilon);
    }

    /// <summary>Running-statistics momentum.</summary>
    public double Momentum { get; }
    /// <summary>Variance epsilon.</summary>
    public double Epsilon { get; }

    /// <inheritdoc />
    public override string ToString() => "BatchNorm";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length is >= 1 and <= 3 ? Shape.Copy(input) : throw ShapeError(index, input, "(features), (channels, length) or (channels, height, width)");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => StableBatchNorm.Create(input[0], input.Length == 3 ? 2 : 1, Epsilon, Momentum);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        // Scoring mode: the running statistics. A (features) input is seen as (features, 1) so every runtime takes it.
        var flat = context.InputShape.Count == 1;
        var input = flat ? context.ReshapeExamples(context.Input, [context.InputShape[0], 1]) : context.Input;
        var output = context.Node("BatchNormalization",
            [input, context.Initializer("weight"), context.Initializer("bias"), context.Initializer("running_mean"), context.Initializer("running_var")],
            OnnxAttribute.Float("epsilon", (float)Epsilon));
        return flat ? context.ReshapeExamples(output, context.InputShape) : output;
    }
}

/// <summary>Layer normalization over the last dimension.</summary>
public sealed class LayerNormLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="epsilon">Added to the variance, &gt; 0 (default 1e-5).</param>
    public LayerNormLayer(double epsilon = 1e-5) => Epsilon = Guard.Positive(epsilon);

    /// <summary>Variance epsilon.</summary>
    public double Epsilon { get; }

    /// <inheritdoc />
    public override string ToString() => "LayerNorm";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length >= 1 ? Shape.Copy(input) : throw ShapeError(index, input, "at least one dimension");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => nn.LayerNorm(new long[] { input[^1] }, Epsilon);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
        => OnnxLayerNorm(Guard.NotNull(context), context.Input, context.Initializer("weight"), context.Initializer("bias"), Epsilon);

    /// <summary>Layer normalization over the last dimension: the operator from opset 17, its decomposition before.</summary>
    internal static string OnnxLayerNorm(OnnxLoweringContext context, string input, string weight, string bias, double epsilon)
    {
        if (context.OpsetVersion >= 17)
            return context.Node("LayerNormalization", [input, weight, bias], OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", (float)epsilon));
        var mean = context.ReduceMean(input, [-1], keepDims: true);
        var centered = context.Node("Sub", [input, mean]);
        var variance = context.ReduceMean(context.Node("Mul", [centered, centered]), [-1], keepDims: true);
        var deviation = context.Node("Sqrt", [context.Node("Add", [variance, context.Constant([(float)epsilon])])]);
        var normalized = context.Node("Div", [centered, deviation]);
        return context.Node("Add", [context.Node("Mul", [normalized, weight]), bias]);
    }
}

/// <summary>Zeroes each value with probability <see cref="Rate"/> during training (scaled by 1/(1−rate)); identity when scoring.</summary>
public sealed class DropoutLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="rate">Drop probability in [0, 1).</param>
    public DropoutLayer(double rate) => Rate = Guard.InRange(rate, 0, 1);

    /// <summary>Drop probability.</summary>
    public double Rate { get; }

    /// <inheritdoc />
    public override string ToString() => $"Dropout({Rate})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index) => Shape.Copy(input);

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new SeededDropoutModule(Rate, context.Generator);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
        => Guard.NotNull(context).Node("Identity", [context.Input]);
}

/// <summary>Maps integer token ids <c>(length)</c> to vectors <c>(length, dimensions)</c>. Ids arrive as floats and are truncated.</summary>
public sealed class EmbeddingLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="vocabularySize">Number of distinct ids (ids are 0 … size−1), &gt; 0.</param>
    /// <param name="dimensions">Vector length, &gt; 0.</param>
    public EmbeddingLayer(int vocabularySize, int dimensions)
    {
        VocabularySize = Guard.Positive(vocabularySize);
        Dimensions = Guard.Positive(dimensions);
    }

    /// <summary>Number of distinct ids.</summary>
    public int VocabularySize { get; }
    /// <summary>Vector length.</summary>
    public int Dimensions { get; }

    /// <inheritdoc />
    public override string ToString() => $"Embedding({VocabularySize}, {Dimensions})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
        => input.Length == 1 ? [input[0], Dimensions] : throw ShapeError(index, input, "(length) token ids");

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new EmbeddingModule(VocabularySize, Dimensions);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        // Ids arrive as floats and are truncated, as in training.
        var ids = context.Node("Cast", [context.Input], OnnxAttribute.Int("to", 7));
        return context.Node("Gather", [context.Initializer("embedding.weight"), ids], OnnxAttribute.Int("axis", 0));
    }
}

/// <summary>Recurrent cell type.</summary>
public enum RecurrentKind
{
    /// <summary>Long short-term memory.</summary>
    Lstm,
    /// <summary>Gated recurrent unit.</summary>
    Gru,
}

/// <summary>LSTM or GRU over <c>(length, features)</c>; returns the whole sequence or the final state.</summary>
public sealed class RecurrentLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="kind">LSTM or GRU.</param>
    /// <param name="hiddenSize">State size per direction, &gt; 0.</param>
    /// <param name="layers">Stacked layers, &gt; 0 (default 1).</param>
    /// <param name="bidirectional">Run a second pass backwards and concatenate (default false).</param>
    /// <param name="returnSequences">Output every step <c>(length, hidden·directions)</c> instead of the last state <c>(hidden·directions)</c> (default false).</param>
    /// <param name="dropout">Dropout between stacked layers in [0, 1) (default 0).</param>
    public RecurrentLayer(RecurrentKind kind, int hiddenSize, int layers = 1, bool bidirectional = false, bool returnSequences = false, double dropout = 0)
    {
        Kind = kind;
        HiddenSize = Guard.Positive(hiddenSize);
        Layers = Guard.Positive(layers);
        Bidirectional = bidirectional;
        ReturnSequences = returnSequences;
        Dropout = Guard.InRange(dropout, 0, 1);
    }

    /// <summary>LSTM or GRU.</summary>
    public RecurrentKind Kind { get; }
    /// <summary>State size per direction.</summary>
    public int HiddenSize { get; }
    /// <summary>Stacked layers.</summary>
    public int Layers { get; }
    /// <summary>Whether a backward pass is concatenated.</summary>
    public bool Bidirectional { get; }
    /// <summary>Whether every step is returned.</summary>
    public bool ReturnSequences { get; }
    /// <summary>Dropout between stacked layers.</summary>
    public double Dropout { get; }

    /// <inheritdoc />
    public override string ToString()
        => $"{(Bidirectional ? "Bi" : "")}{Kind.ToString().ToUpperInvariant()}({HiddenSize}, layers {Layers}{(ReturnSequences ? ", sequences" : "")})";

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index)
    {
        if (input.Length != 2)
            throw ShapeError(index, input, "(length, features); add Reshape(length, features) or an Embedding before it");
        var width = HiddenSize * (Bidirectional ? 2 : 1);
        return ReturnSequences ? [input[0], width] : [width];
    }

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context)
        => new RecurrentModule(Kind, input[1], HiddenSize, Layers, Bidirectional, ReturnSequences, Dropout);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
    {
        Guard.NotNull(context);
        var prefix = Kind == RecurrentKind.Lstm ? "lstm." : "gru.";
        var (sequence, final) = RecurrentOnnx.Lower(context, prefix, Kind, context.Input, context.InputShape[1], HiddenSize, Layers, Bidirectional);
        return ReturnSequences ? sequence : final;
    }
}

/// <summary>Element-wise (or, for softmax, last-dimension) activation functions.</summary>
public enum ActivationKind
{
    /// <summary>max(0, x).</summary>
    ReLU,
    /// <summary>x for x &gt; 0, slope·x otherwise.</summary>
    LeakyReLU,
    /// <summary>1 / (1 + e^−x).</summary>
    Sigmoid,
    /// <summary>Hyperbolic tangent.</summary>
    Tanh,
    /// <summary>Softmax over the last dimension.</summary>
    Softmax,
    /// <summary>Gaussian error linear unit.</summary>
    GELU,
    /// <summary>x · sigmoid(x) (a.k.a. swish).</summary>
    SiLU,
    /// <summary>min(max(0, x), 6), as in MobileNetV2.</summary>
    ReLU6,
    /// <summary>x · ReLU6(x + 3) / 6, as in MobileNetV3.</summary>
    Hardswish,
}

/// <summary>An activation function; shape is unchanged.</summary>
public sealed class ActivationLayer : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="kind">Which function.</param>
    /// <param name="negativeSlope">Slope for negative inputs of <see cref="ActivationKind.LeakyReLU"/> (default 0.01).</param>
    public ActivationLayer(ActivationKind kind, double negativeSlope = 0.01)
    {
        Kind = kind;
        NegativeSlope = negativeSlope;
    }

    /// <summary>Which function.</summary>
    public ActivationKind Kind { get; }
    /// <summary>LeakyReLU slope.</summary>
    public double NegativeSlope { get; }

    /// <inheritdoc />
    public override string ToString() => Kind == ActivationKind.LeakyReLU ? $"LeakyReLU({NegativeSlope})" : Kind.ToString();

    /// <inheritdoc />
    public override int[] InferOutputShape(int[] input, int index) => Shape.Copy(input);

    /// <inheritdoc />
    public override nn.Module<Tensor, Tensor> Build(int[] input, BuildContext context) => CreateModule(Kind, NegativeSlope);

    /// <inheritdoc />
    public override string ToOnnx(OnnxLoweringContext context)
        => Guard.NotNull(context).Activation(Kind, context.Input, NegativeSlope);

    internal static nn.Module<Tensor, Tensor> CreateModule(ActivationKind kind, double negativeSlope = 0.01) => kind switch
    {
        ActivationKind.ReLU => nn.ReLU(),
        ActivationKind.LeakyReLU => nn.LeakyReLU(negativeSlope),
        ActivationKind.Sigmoid => nn.Sigmoid(),
        ActivationKind.Tanh => nn.Tanh(),
        ActivationKind.Softmax => nn.Softmax(-1),
        ActivationKind.GELU => nn.GELU(),
        ActivationKind.SiLU => nn.SiLU(),
        ActivationKind.ReLU6 => nn.ReLU6(),
        ActivationKind.Hardswish => nn.Hardswish(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Unknown activation. Received: kind={kind}"),
    };
}

using System;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Text.Classification;

namespace ML.DeepExtensions.Benchmarks.Compare;

/// <summary>
/// One workload of the three-sided comparison (issue 15): the network body in our DSL (the trainer appends the output
/// layer: Dense(10) for the classifiers, Dense(1) for the regression MLP), its batch size and input, and the layer list
/// each side builds. The PyTorch side is <c>benchmarks/pytorch/workloads.py</c>, keyed by <see cref="Key"/>, with the same
/// numbers; the raw TorchSharp side is the network our trainer trained, rebuilt from the same seed.
/// </summary>
internal sealed record Workload(
    string Key,
    string Name,
    int BatchSize,
    int[] InputShape,
    bool Regression,
    bool TokenIds,
    int QuickSteps,
    int FullSteps,
    Network Body,
    string OursLayers,
    string PyTorchLayers,
    TextEncoder? TextClassifier = null,
    string? PyTorchKey = null)
{
    /// <summary>The workload of <c>benchmarks/pytorch/workloads.py</c> with the same layers.</summary>
    public string PythonWorkload => PyTorchKey ?? Key;

    public const int Classes = 10;
    public const int Vocabulary = 5000;
    public const int Length = 128;

    public int FeatureSize => InputShape.Aggregate(1, (a, b) => a * b);

    public static readonly Workload LeNet5 = new(
        "lenet5", "LeNet-5 28×28, b64", 64, [1, 28, 28], Regression: false, TokenIds: false, QuickSteps: 10, FullSteps: 200,
        Network.Create().Conv2d(6, 5).ReLU().MaxPool2d(2).Conv2d(16, 5).ReLU().MaxPool2d(2).Flatten().Dense(120).ReLU().Dense(84).ReLU(),
        "`Conv2d(6,5) → ReLU → MaxPool2d(2) → Conv2d(16,5) → ReLU → MaxPool2d(2) → Flatten → Dense(120) → ReLU → Dense(84) → ReLU` + trainer's `Dense(10)`, `InputShape = [1,28,28]`",
        "`nn.Sequential(Conv2d(1,6,5), ReLU, MaxPool2d(2), Conv2d(6,16,5), ReLU, MaxPool2d(2), Flatten, Linear(256,120), ReLU, Linear(120,84), ReLU, Linear(84,10))`");

    public static readonly Workload ResNet = new(
        "resnet", "ResNet-18-style 32×32, b32", 32, [3, 32, 32], Regression: false, TokenIds: false, QuickSteps: 4, FullSteps: 50,
        ResNetBody([16, 32, 64, 128]),
        "`Conv2d(16,3,pad 1,no bias) → BatchNorm → ReLU`, then per stage (16, 32, 64, 128 channels; stride 2 from the second) one " +
        "`Residual(body: Conv2d(c,3,stride,pad 1,no bias) → BatchNorm → ReLU → Conv2d(c,3,pad 1,no bias) → BatchNorm; shortcut where the shape changes: Conv2d(c,1,stride,no bias) → BatchNorm; activation ReLU)` " +
        "→ `GlobalAveragePool` + trainer's `Dense(10)`, `InputShape = [3,32,32]` (torchvision ResNet-18 layout, small-input stem, width 0.25, 1 block per stage instead of 2)",
        "the same by hand: `Conv2d(3,16,3,1,1,bias=False), BatchNorm2d, ReLU`, four torchvision-style `BasicBlock`s (conv1/bn1/relu/conv2/bn2 + `downsample` = 1×1 conv + BN where the shape changes, ReLU after the sum), " +
        "`AdaptiveAvgPool2d(1), Flatten, Linear(128,10)`");

    public static readonly Workload Lstm = new(
        "lstm", "Embedding + 2×LSTM(256) seq 128, b32 (DSL network)", 32, [Length], Regression: false, TokenIds: true, QuickSteps: 2, FullSteps: 20,
        Network.Create().Embedding(Vocabulary, 128).Lstm(256, layers: 2),
        "`Embedding(5000,128) → Lstm(256, layers: 2)` (last layer's final hidden state) + trainer's `Dense(10)`; ids fed as floats, as the engine feeds them",
        "`Embedding(5000,128) → nn.LSTM(128,256,num_layers=2,batch_first=True)` → `h[-1]` → `Linear(256,10)`");

    public static readonly Workload Transformer = new(
        "transformer", "Embedding + 2×Transformer(128) seq 128, b32 (DSL network)", 32, [Length], Regression: false, TokenIds: true, QuickSteps: 2, FullSteps: 20,
        Network.Create().Transformer(Vocabulary, 128, Length, paddingId: 0, layers: 2, heads: 4, feedForward: 512, dropout: 0, pooling: SequencePooling.Mean),
        "`Transformer(vocabularySize: 5000, dimensions: 128, maxLength: 128, paddingId: 0, layers: 2, heads: 4, feedForward: 512, dropout: 0, pooling: Mean)` " +
        "(token + learned position embeddings, 2 pre-LN blocks: LayerNorm → fused qkv Linear → attention (libtorch `scaled_dot_product_attention`, dropout 0) → Linear, residual; LayerNorm → Linear(512) → GELU → Linear(128), residual; final LayerNorm; mean over non-padding positions) + trainer's `Dense(10)`",
        "hand module: `Embedding(5000,128)` + learned `Embedding(128,128)` positions → 2 × `nn.TransformerEncoderLayer(128, nhead=4, dim_feedforward=512, dropout=0, activation='gelu', batch_first=True, norm_first=True)` " +
        "→ `LayerNorm(128)` → mean over positions → `Linear(128,10)` (no padding mask: the random ids never include padding id 0, so our mask keeps every position too)");

    public static readonly Workload Mlp = new(
        "mlp", "MLP 100→256→256→1, b256 (regression)", 256, [100], Regression: true, TokenIds: false, QuickSteps: 10, FullSteps: 200,
        Network.Create().Dense(256).ReLU().Dense(256).ReLU(),
        "`Dense(256) → ReLU → Dense(256) → ReLU` + trainer's `Dense(1)`, `Regression.Trainers.NeuralNetwork` (mean squared error)",
        "`nn.Sequential(Linear(100,256), ReLU, Linear(256,256), ReLU, Linear(256,1))`, `MSELoss`");

    /// <summary>The LSTM workload through the public text trainer (token-id column, no tokenizer): the slowest row.</summary>
    public static readonly Workload TextLstm = new(
        "text-lstm", "same LSTM through `NeuralTextClassifier`", 32, [Length], Regression: false, TokenIds: true, QuickSteps: 2, FullSteps: 20,
        Network.Create(),
        "`mlContext.MulticlassClassification.Trainers.NeuralTextClassifier` on an Int32 token-id column (`VocabularySize` 5000, `PaddingId` 0, `MaxLength` 128, `EmbeddingDimensions` 128, `Dropout` 0, " +
        "`TextEncoder.Lstm(256, layers: 2, bidirectional: false, LastState)`, length bucketing at its default) + trainer's `Dense(10)`",
        "the `lstm` workload", TextEncoder.Lstm(256, 2, bidirectional: false, TextPooling.LastState), "lstm");

    /// <summary>The Transformer workload through the public text trainer.</summary>
    public static readonly Workload TextTransformer = new(
        "text-transformer", "same Transformer through `NeuralTextClassifier`", 32, [Length], Regression: false, TokenIds: true, QuickSteps: 2, FullSteps: 20,
        Network.Create(),
        "`NeuralTextClassifier` as above with `TextEncoder.Transformer(layers: 2, heads: 4, feedForward: 512, Mean)`, `EmbeddingDimensions` 128, `Dropout` 0",
        "the `transformer` workload", TextEncoder.Transformer(2, 4, 512, TextPooling.Mean), "transformer");

    public static readonly Workload[] All = [LeNet5, ResNet, Lstm, Transformer, Mlp, TextLstm, TextTransformer];

    private static Network ResNetBody(int[] widths)
    {
        var network = Network.Create().Conv2d(widths[0], 3, 1, 1, useBias: false).BatchNorm().ReLU();
        var channels = widths[0];
        for (var stage = 0; stage < widths.Length; stage++)
        {
            var planes = widths[stage];
            var stride = stage > 0 ? 2 : 1;
            var body = Network.Create()
                .Conv2d(planes, 3, stride, 1, useBias: false).BatchNorm().ReLU()
                .Conv2d(planes, 3, 1, 1, useBias: false).BatchNorm();
            var shortcut = stride != 1 || channels != planes ? Network.Create().Conv2d(planes, 1, stride, useBias: false).BatchNorm() : null;
            network = network.Residual(body, shortcut, ActivationKind.ReLU);
            channels = planes;
        }
        return network.GlobalAveragePool();
    }

    /// <summary>Synthetic inputs: uniform [0,1) pixels / features, or token ids in [1, vocabulary) (0 is padding, never drawn); labels uniform over 10 classes, or N(0,1) targets.</summary>
    public (float[] Features, float[] Labels) Synthetic(int rows, int seed)
    {
        var random = new Random(seed);
        var features = new float[rows * FeatureSize];
        for (var i = 0; i < features.Length; i++)
            features[i] = TokenIds ? random.Next(1, Vocabulary) : random.NextSingle();
        var labels = new float[rows];
        for (var i = 0; i < rows; i++)
            labels[i] = Regression ? (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())) : random.Next(Classes);
        return (features, labels);
    }
}

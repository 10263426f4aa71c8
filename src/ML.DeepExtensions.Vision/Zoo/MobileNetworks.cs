using System.Linq;
using ML.DeepExtensions.Networks;
using static ML.DeepExtensions.Vision.Zoo.ZooBlocks;

namespace ML.DeepExtensions.Vision.Zoo;

/// <summary>MobileNetV2 and EfficientNet-B0: inverted residual blocks with depthwise convolutions.</summary>
internal static class MobileNetworks
{
    public const int MinimumSize = 1;

    // t (expansion), c (channels), n (blocks), s (stride of the first block): torchvision's inverted_residual_setting.
    private static readonly (int T, int C, int N, int S)[] MobileNetV2Setting =
        [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];

    /// <summary>torchvision.models.mobilenet_v2 (0.14) up to the classifier's Dropout(0.2). <c>width</c> is the
    /// reference's width_mult (channels rounded to multiples of 8); <c>depth</c> scales the block counts (ceil).</summary>
    public static Network MobileNetV2(MobileNetV2Parameters p, int[] input)
    {
        var width = CheckInput("MobileNetV2", p, input, MinimumSize);
        var channels = MakeDivisible(32 * width);
        var lastChannels = MakeDivisible(1280 * System.Math.Max(1.0, width));
        var network = Network.Create().ConvBnAct(channels, 3, 2, activation: ActivationKind.ReLU6);
        foreach (var (t, c, n, s) in MobileNetV2Setting)
        {
            var output = MakeDivisible(c * width);
            for (var i = 0; i < Depth(n, p.Depth); i++)
            {
                var stride = i == 0 ? s : 1;
                var hidden = (int)System.Math.Round(channels * (double)t, System.MidpointRounding.ToEven);
                var body = Network.Create();
                if (t != 1)
                    body = body.ConvBnAct(hidden, 1, activation: ActivationKind.ReLU6);
                body = body.ConvBnAct(hidden, 3, stride, groups: hidden, activation: ActivationKind.ReLU6)
                    .ConvBnAct(output, 1, activation: null);
                network = stride == 1 && channels == output ? network.Residual(body) : network.Append(body);
                channels = output;
            }
        }
        return network.ConvBnAct(lastChannels, 1, activation: ActivationKind.ReLU6).GlobalAveragePool().Dropout(p.Dropout);
    }

    // expand ratio, kernel, stride, input channels, output channels, layers: torchvision's _efficientnet_conf for B0.
    private static readonly (int Expand, int Kernel, int Stride, int Input, int Output, int Layers)[] EfficientNetB0Setting =
        [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)];

    /// <summary>torchvision.models.efficientnet_b0 (0.14) up to the classifier's Dropout(0.2): MBConv blocks
    /// (expand 1×1, depthwise k×k, squeeze-excitation with SiLU, project 1×1) with stochastic depth rising linearly to
    /// 0.2. <c>width</c> and <c>depth</c> are the compound-scaling multipliers (B1: 1.0/1.1, B2: 1.1/1.2, …).</summary>
    public static Network EfficientNetB0(EfficientNetParameters p, int[] input)
    {
        var width = CheckInput("EfficientNetB0", p, input, MinimumSize);
        var stages = EfficientNetB0Setting
            .Select(s => (s.Expand, s.Kernel, s.Stride, Input: MakeDivisible(s.Input * width), Output: MakeDivisible(s.Output * width), Layers: Depth(s.Layers, p.Depth)))
            .ToArray();
        var total = stages.Sum(s => s.Layers);
        var network = Network.Create().ConvBnAct(stages[0].Input, 3, 2, activation: ActivationKind.SiLU);
        var blockId = 0;
        foreach (var stage in stages)
        {
            for (var i = 0; i < stage.Layers; i++, blockId++)
            {
                var inputChannels = i == 0 ? stage.Input : stage.Output;
                var stride = i == 0 ? stage.Stride : 1;
                var expanded = MakeDivisible(inputChannels * (double)stage.Expand);
                var body = Network.Create();
                if (expanded != inputChannels)
                    body = body.ConvBnAct(expanded, 1, activation: ActivationKind.SiLU);
                body = body.ConvBnAct(expanded, stage.Kernel, stride, groups: expanded, activation: ActivationKind.SiLU)
                    .SqueezeExcitation(System.Math.Max(1, inputChannels / 4), ActivationKind.SiLU)
                    .ConvBnAct(stage.Output, 1, activation: null);
                var dropPath = p.StochasticDepth * blockId / total;
                network = stride == 1 && inputChannels == stage.Output ? network.Residual(body, dropPath: dropPath) : network.Append(body);
            }
        }
        return network.ConvBnAct(4 * stages[^1].Output, 1, activation: ActivationKind.SiLU).GlobalAveragePool().Dropout(p.Dropout);
    }
}

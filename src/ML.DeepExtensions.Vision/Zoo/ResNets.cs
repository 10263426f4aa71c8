using System;
using System.Linq;
using ML.DeepExtensions.Networks;
using static ML.DeepExtensions.Vision.Zoo.ZooBlocks;

namespace ML.DeepExtensions.Vision.Zoo;

/// <summary>
/// torchvision.models.resnet18/34/50 (0.14, "V1.5": the bottleneck strides in its 3×3 convolution) up to the
/// global average pool. Blocks are <see cref="ResidualLayer"/>s whose body is conv1, bn1, conv2, bn2[, conv3, bn3] and
/// whose shortcut, where the shape changes, is downsample.0 (1×1 convolution) and downsample.1 (batch norm).
/// The <c>blocks</c> parameter (blocks per stage, default torchvision's) gives variants such as the 2, 2, 2, 3
/// ResNet of the ImageNet weights in <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>.
/// </summary>
internal static class ResNets
{
    public const int MinimumSize = 1;

    public static Network ResNet18(ResNetParameters p, int[] input) => ResNet("ResNet18", [2, 2, 2, 2], bottleneck: false, p, input);

    public static Network ResNet34(ResNetParameters p, int[] input) => ResNet("ResNet34", [3, 4, 6, 3], bottleneck: false, p, input);

    public static Network ResNet50(ResNetParameters p, int[] input) => ResNet("ResNet50", [3, 4, 6, 3], bottleneck: true, p, input);

    // torchvisionBlocks: the variant's blocks per stage, used when ResNetParameters.Blocks is unset.
    private static Network ResNet(string name, int[] torchvisionBlocks, bool bottleneck, ResNetParameters p, int[] input)
    {
        var width = CheckInput(name, p, input, MinimumSize);
        var blocks = CheckBlocks(p.Blocks ?? torchvisionBlocks, torchvisionBlocks);
        return Stages(blocks, bottleneck, p.SmallInput, width, out _).GlobalAveragePool();
    }

    /// <summary>
    /// torchvision's ResNet stem and its first <c>blocks.Length</c> stages (<paramref name="blocks"/> blocks each; stage s has
    /// 64·2^s·<paramref name="width"/> planes), without the pool: the feature map at stride 4·2^(stages − 1) (or 2^(stages − 1)
    /// with <paramref name="smallInput"/>), with <paramref name="channels"/> channels. Its state tensors are a prefix of the
    /// full network's, in torchvision's order.
    /// </summary>
    public static Network Stages(int[] blocks, bool bottleneck, bool smallInput, double width, out int channels)
    {
        var expansion = bottleneck ? 4 : 1;
        var stem = Scale(64, width);
        var network = smallInput
            ? Network.Create().Conv2d(stem, 3, 1, 1, useBias: false).BatchNorm().ReLU()
            : Network.Create().Conv2d(stem, 7, 2, 3, useBias: false).BatchNorm().ReLU().MaxPool2d(3, 2, 1);
        channels = stem;
        for (var stage = 0; stage < blocks.Length; stage++)
        {
            var planes = Scale(64 << stage, width);
            for (var block = 0; block < blocks[stage]; block++)
            {
                var stride = stage > 0 && block == 0 ? 2 : 1;
                var body = bottleneck
                    ? Network.Create()
                        .Conv2d(planes, 1, useBias: false).BatchNorm().ReLU()
                        .Conv2d(planes, 3, stride, 1, useBias: false).BatchNorm().ReLU()
                        .Conv2d(planes * expansion, 1, useBias: false).BatchNorm()
                    : Network.Create()
                        .Conv2d(planes, 3, stride, 1, useBias: false).BatchNorm().ReLU()
                        .Conv2d(planes, 3, 1, 1, useBias: false).BatchNorm();
                var shortcut = stride != 1 || channels != planes * expansion
                    ? Network.Create().Conv2d(planes * expansion, 1, stride, useBias: false).BatchNorm()
                    : null;
                network = network.Residual(body, shortcut, ActivationKind.ReLU);
                channels = planes * expansion;
            }
        }
        return network;
    }

    /// <summary>Blocks per stage: one positive count for each of torchvision's four stages.</summary>
    public static int[] CheckBlocks(int[] blocks, int[] defaultBlocks)
    {
        if (blocks.Length != defaultBlocks.Length || blocks.Any(b => b <= 0))
            throw new ArgumentException(
                $"Architecture parameter 'blocks' must be {defaultBlocks.Length} positive block counts, one per stage (default {string.Join(",", defaultBlocks)}). " +
                $"Received: blocks={string.Join(",", blocks)}", "blocks");
        return blocks;
    }
}

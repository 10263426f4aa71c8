using ML.DeepExtensions.Networks;
using static ML.DeepExtensions.Vision.Zoo.ZooBlocks;

namespace ML.DeepExtensions.Vision.Zoo;

/// <summary>LeNet-5, AlexNet and VGG: plain stacks of convolutions and pooling with a fully connected head.</summary>
internal static class ClassicNetworks
{
    public const int LeNet5MinimumSize = 16;
    public const int AlexNetMinimumSize = 63;
    public const int VggMinimumSize = 32;

    /// <summary>
    /// LeCun et al. 1998: conv 6@5×5 → pool 2 → conv 16@5×5 → pool 2 → Dense 120 → Dense 84, with ReLU and max pooling
    /// by default (the original's tanh and average pooling via <c>activation</c>/<c>pooling</c>). 32×32 gives the
    /// original 16×5×5 features; 28×28 (MNIST) gives 16×4×4.
    /// </summary>
    public static Network LeNet5(LeNet5Parameters p, int[] input)
    {
        var width = CheckInput("LeNet5", p, input, LeNet5MinimumSize);
        var activation = new ActivationLayer(p.Activation);
        var pooling = new PoolingLayer(p.Pooling, 2, 2);
        return Network.Create()
            .Conv2d(Scale(6, width), 5).Add(activation).Add(pooling)
            .Conv2d(Scale(16, width), 5).Add(activation).Add(pooling)
            .Flatten()
            .Dense(Scale(120, width)).Add(activation)
            .Dense(Scale(84, width)).Add(activation);
    }

    /// <summary>torchvision.models.alexnet (0.14): five convolutions, three max-pools, adaptive pool 6×6, then
    /// Dropout → Linear 4096 → ReLU → Dropout → Linear 4096 → ReLU (the final Linear is the trainer's).</summary>
    public static Network AlexNet(AlexNetParameters p, int[] input)
    {
        var width = CheckInput("AlexNet", p, input, AlexNetMinimumSize);
        var (hidden, dropout) = (p.Hidden, p.Dropout);
        return Network.Create()
            .Conv2d(Scale(64, width), 11, 4, 2).ReLU().MaxPool2d(3, 2)
            .Conv2d(Scale(192, width), 5, 1, 2).ReLU().MaxPool2d(3, 2)
            .Conv2d(Scale(384, width), 3, 1, 1).ReLU()
            .Conv2d(Scale(256, width), 3, 1, 1).ReLU()
            .Conv2d(Scale(256, width), 3, 1, 1).ReLU().MaxPool2d(3, 2)
            .AdaptiveAvgPool2d(p.PoolSize).Flatten()
            .Dropout(dropout).Dense(hidden).ReLU()
            .Dropout(dropout).Dense(hidden).ReLU();
    }

    private static readonly int[] Vgg11Config = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0];
    private static readonly int[] Vgg16Config = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];

    public static Network Vgg11(VggParameters p, int[] input) => Vgg("Vgg11", Vgg11Config, p, input);

    public static Network Vgg16(VggParameters p, int[] input) => Vgg("Vgg16", Vgg16Config, p, input);

    /// <summary>torchvision.models.vgg11/vgg16[_bn] (0.14): 3×3 convolutions (with bias) [+ batch norm] + ReLU, max-pool 2
    /// (0 in the configuration), adaptive pool 7×7, then Linear 4096 → ReLU → Dropout → Linear 4096 → ReLU → Dropout.</summary>
    private static Network Vgg(string name, int[] configuration, VggParameters p, int[] input)
    {
        var width = CheckInput(name, p, input, VggMinimumSize);
        var network = Network.Create();
        foreach (var filters in configuration)
        {
            if (filters == 0)
            {
                network = network.MaxPool2d(2, 2);
                continue;
            }
            network = network.Conv2d(Scale(filters, width), 3, 1, 1);
            if (p.BatchNorm)
                network = network.BatchNorm();
            network = network.ReLU();
        }
        return network
            .AdaptiveAvgPool2d(p.PoolSize).Flatten()
            .Dense(p.Hidden).ReLU().Dropout(p.Dropout)
            .Dense(p.Hidden).ReLU().Dropout(p.Dropout);
    }
}

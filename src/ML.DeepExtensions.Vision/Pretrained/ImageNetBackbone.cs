using System;
using System.Collections.Generic;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Pretrained;
using ML.DeepExtensions.Vision.Classification;

namespace ML.DeepExtensions.Vision.Pretrained;

/// <summary>
/// Everything needed to fine-tune real ImageNet weights with <c>CnnImageClassifier</c>: the weights, the network
/// they fit, and the input contract that feeds them as they were trained. Get one from
/// <see cref="ImageNetWeights.ResNet18(string?)"/>; <see cref="CreateClassifierOptions"/> fills the options.
/// </summary>
/// <remarks>
/// The trainer's images arrive as RGB values in [0, 1] (ML.NET's <c>ExtractPixels</c> with scale 1/255), then pass
/// the network's <c>Normalize(mean, std)</c>. With <see cref="Mean"/> = channel means / 255 and <see cref="Std"/> =
/// 1/255, <c>(x − mean) / std</c> = 255·x − channel mean: the "pixel values 0–255 minus the mean" the weights were
/// trained with. The weights' first convolution has its input channels reversed (BGR → RGB) so that RGB input gives
/// the features the original model computes from BGR input.
/// </remarks>
public sealed class ImageNetBackbone
{
    internal ImageNetBackbone(string name, PretrainedWeights weights, Network network, float[] mean, float[] std, int height, int width, int sizeMultiple, int features)
    {
        Name = name;
        Weights = weights;
        Network = network;
        Mean = mean;
        Std = std;
        Height = height;
        Width = width;
        SizeMultiple = sizeMultiple;
        Features = features;
    }

    /// <summary>What the weights are, e.g. <c>ResNet18 (2, 2, 2, 3 blocks), ImageNet, from Microsoft.ML.DnnImageFeaturizer.ResNet18</c>.</summary>
    public string Name { get; }

    /// <summary>The weights, backbone only (no classifier head), in the order of <see cref="Network"/>'s tensors, first convolution in RGB order.</summary>
    public PretrainedWeights Weights { get; }

    /// <summary>The architecture the weights fit, up to the global average pool; the trainer appends the output layer.</summary>
    public Network Network { get; }

    /// <summary>Per-channel means (R, G, B) subtracted from pixels in [0, 1]: the weights' channel means divided by 255.</summary>
    public IReadOnlyList<float> Mean { get; }

    /// <summary>Per-channel standard deviations (R, G, B): 1/255, which turns [0, 1] pixels back into the 0–255 scale of the weights.</summary>
    public IReadOnlyList<float> Std { get; }

    /// <summary>Image channels: 3 (RGB).</summary>
    public int Channels => 3;

    /// <summary>Image height the weights were trained at (224).</summary>
    public int Height { get; }

    /// <summary>Image width the weights were trained at (224).</summary>
    public int Width { get; }

    /// <summary>Image sides must be multiples of this (32) for the network to compute exactly what the original model does (see <see cref="ImageNetWeights"/>).</summary>
    public int SizeMultiple { get; }

    /// <summary>Length of the feature vector <see cref="Network"/> ends with (512).</summary>
    public int Features { get; }

    /// <summary>
    /// Options for <c>mlContext.MulticlassClassification.Trainers.CnnImageClassifier</c> with this network, its weights
    /// (<see cref="SupervisedTrainerOptions.PretrainedWeights"/>; the output layer starts fresh for the label's class count),
    /// three channels, the mean/std above and square images of <paramref name="imageSize"/>. Set epochs, learning rate,
    /// <see cref="Training.TrainerOptions.FreezeBackboneEpochs"/> and the rest on the result.
    /// </summary>
    /// <param name="imageSize">Side images are resized to: a positive multiple of <see cref="SizeMultiple"/> (default 224).
    /// Smaller sides are much faster on CPU (64 px: about 12× fewer operations than 224 px) at some cost in accuracy.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="imageSize"/> is not a positive multiple of <see cref="SizeMultiple"/>.</exception>
    public CnnImageClassifierOptions CreateClassifierOptions(int imageSize = 224)
    {
        if (imageSize <= 0 || imageSize % SizeMultiple != 0)
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize,
                $"imageSize must be a positive multiple of {SizeMultiple} (224 is the size the weights were trained at). Received: imageSize={imageSize}");
        return new CnnImageClassifierOptions
        {
            Network = Network,
            PretrainedWeights = Weights,
            Channels = Channels,
            ImageHeight = imageSize,
            ImageWidth = imageSize,
            Mean = Mean.ToArray(),
            Std = Std.ToArray(),
        };
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}

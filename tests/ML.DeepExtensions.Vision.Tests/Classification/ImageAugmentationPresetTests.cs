using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Vision.Classification;
using Xunit;

namespace ML.DeepExtensions.Vision.Tests.Classification;

/// <summary>Issue 9: each augmentation preset does what its name says — only the one for natural images mirrors.</summary>
public class ImageAugmentationPresetTests
{
    [Fact]
    public void Natural_Mirrors_Characters_DoesNot_AndBothCropRotateAndJitter()
    {
        var natural = ImageAugmentation.Natural.BeforeNormalization(Network.Create()).Layers;
        var characters = ImageAugmentation.Characters.BeforeNormalization(Network.Create()).Layers;

        Assert.Contains(natural, l => l is RandomFlipLayer);
        Assert.DoesNotContain(characters, l => l is RandomFlipLayer);
        foreach (var layers in new[] { natural, characters })
        {
            Assert.Contains(layers, l => l is RandomCropLayer);
            Assert.Contains(layers, l => l is RandomRotationLayer);
            Assert.Contains(layers, l => l is ColorJitterLayer);
        }
        Assert.Empty(ImageAugmentation.None.BeforeNormalization(Network.Create()).Layers);
    }
}

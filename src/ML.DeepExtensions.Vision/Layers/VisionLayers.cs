using System.Runtime.CompilerServices;
using ML.DeepExtensions.Networks;

namespace ML.DeepExtensions.Vision;

/// <summary>Registers the layer kinds of this package in <see cref="LayerRegistry"/>, under the JSON names they have had
/// since format version 1, when this assembly is first used or loaded by a network that names them.</summary>
internal static class VisionLayers
{
#pragma warning disable CA2255 // Registering from a module initializer is the point: networks naming these layers load without user code.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        LayerRegistry.Register<NormalizeLayer>("Normalize");
        LayerRegistry.Register<RandomCropLayer>("RandomCrop");
        LayerRegistry.Register<RandomFlipLayer>("RandomFlip");
        LayerRegistry.Register<RandomRotationLayer>("RandomRotation");
        LayerRegistry.Register<ColorJitterLayer>("ColorJitter");
        LayerRegistry.Register<RandomErasingLayer>("RandomErasing");
        LayerRegistry.Register<Detection.DetectionHeadLayer>("DetectionHead");
    }
}

using ML.DeepExtensions.Vision.Detection;
using ML.DeepExtensions.Vision.Persistence;

// Every model loader of the vision package: ML.NET reads a loader signature from a zip, loads the assembly named there and
// scans its LoadableClass attributes.
[assembly: Microsoft.ML.LoadableClass(typeof(ObjectDetectorTransformer), typeof(ObjectDetectorFormat), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Object Detector Transformer", ObjectDetectorFormat.LoaderSignature)]

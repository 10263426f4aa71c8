using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Scoring;

// Every model loader of the core package: ML.NET reads a loader signature from a zip, loads the assembly named there and
// scans its LoadableClass attributes (dropped by the runtime unless IgnoresAccessChecksTo is honoured; see MLNetInternals.SelfCheck).
[assembly: Microsoft.ML.LoadableClass(typeof(NeuralNetworkTransformer), typeof(ModelFormat), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Neural Network Transformer", ModelFormat.LoaderSignature)]
[assembly: Microsoft.ML.LoadableClass(typeof(NeuralNetworkBinaryModelParameters), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Neural Network Binary Model Parameters", NeuralNetworkBinaryModelParameters.LoaderSignature)]

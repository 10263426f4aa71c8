using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Persistence;
using ML.DeepExtensions.Text.Tokenization;

// Every model loader of the text package: ML.NET reads a loader signature from a zip, loads the assembly named there and
// scans its LoadableClass attributes.
[assembly: Microsoft.ML.LoadableClass(typeof(TokenizingTransformer), typeof(TokenizerFormat), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Tokenizing Transformer", TokenizerFormat.LoaderSignature)]
[assembly: Microsoft.ML.LoadableClass(typeof(LanguageModelTransformer), typeof(LanguageModelFormat), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Language Model Transformer", LanguageModelFormat.LoaderSignature)]
[assembly: Microsoft.ML.LoadableClass(typeof(ML.DeepExtensions.Text.Tagging.NeuralTokenClassifierTransformer), typeof(TokenClassifierFormat), null,
    typeof(Microsoft.ML.SignatureLoadModel), "Token Classifier Transformer", TokenClassifierFormat.LoaderSignature)]

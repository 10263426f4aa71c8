using System;
using System.IO;
using Microsoft.ML;
using ML.DeepExtensions.Text.Tokenization;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Tokenization;

/// <summary>Classic (not byte-level) BPE from a tiny vocab.json + merges.txt whose merges can be followed by hand.</summary>
public sealed class ClassicBpeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mldx-bpe-").FullName;

    [Fact]
    public void TokenizeToIdsWithBpe_Classic_AppliesMergesByPriorityAndMapsUnknownCharacters()
    {
        var vocabulary = Path.Combine(_directory, "vocab.json");
        var merges = Path.Combine(_directory, "merges.txt");
        File.WriteAllText(vocabulary, """{"l":0,"o":1,"w":2,"e":3,"r":4,"lo":5,"low":6,"er":7,"<unk>":8,"!":9}""");
        File.WriteAllLines(merges, ["#version: 0.2", "l o", "lo w", "e r"]);
        var mlContext = new MLContext();
        var data = TestData.Texts(mlContext, ["lower low z!", "owl"]);
        var transformer = mlContext.Transforms.Text.TokenizeToIdsWithBpe(new BpeTokenizationOptions
        {
            OutputColumnName = "Ids", InputColumnName = "Text", VocabularyPath = vocabulary, MergesPath = merges,
            ByteLevel = false, UnknownToken = "<unk>", MaxLength = 6,
        }).Fit(data);
        var rows = TestData.Ids(transformer.Transform(data), "Ids");

        // lower → l o w e r → lo w e r → low e r → low er; low → low; z → <unk>; ! → !; then padding (max id 9 + 1).
        Assert.Equal([6, 7, 6, 8, 9, 10], rows[0]);
        // owl has no applicable merge: o w l.
        Assert.Equal([1, 2, 0, 10, 10, 10], rows[1]);
        Assert.Equal(8, transformer.UnknownTokenId);
        Assert.Equal(10, transformer.PaddingId);
        Assert.Equal(11, transformer.VocabularySize);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

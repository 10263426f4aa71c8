using System;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.TestSupport;
using ML.DeepExtensions.Text.Generation;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Text.Tests.Reliability;

/// <summary>
/// Issue 10, fuzz proof for the tokenizer and language-model formats (the network format is fuzzed in the core tests):
/// random bytes flipped in every entry of a saved zip either make loading fail clearly or change nothing.
/// The contract is <see cref="ZipFuzzer.IsClear"/>, as for the network format.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class TextModelZipFuzzTests(TextModels models, ITestOutputHelper output) : IClassFixture<TextModels>
{
    private void Run(string zip, int trials, Func<string, byte[]> outputs)
    {
        var clock = Stopwatch.StartNew();
        var results = ZipFuzzer.Run(zip, models.Directory, trials, seed: 10, outputs);
        output.WriteLine($"{results.Count} trials in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(ZipFuzzer.Summary(results));
        Assert.True(results.Count >= 200);
        Assert.Equal(ZipFuzzer.FuzzedEntries(zip).Length, results.Select(t => t.Entry).Distinct().Count());
        ZipFuzzer.AssertContract(results, ZipFuzzer.IsClear);
    }

    [Fact]
    public void Tokenizer_FlippedBytesInEveryEntry_FailClearlyOrChangeNothing()
        => Run(models.TokenizerZip, 200, zip => models.TokenizerOutputs(new MLContext().Model.Load(zip, out _)));

    [Fact]
    public void LanguageModel_FlippedBytesInEveryEntry_FailClearlyOrChangeNothing()
        => Run(models.LanguageModelZip, 210, zip =>
        {
            using var model = (LanguageModelTransformer)new MLContext().Model.Load(zip, out _);
            return TextModels.LanguageModelOutputs(model);
        });
}

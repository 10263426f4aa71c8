using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.TestSupport;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Generation;

[Collection(FortunesCollection.Name)]
public sealed class LanguageModelPersistenceTests(FortunesModel fortunes) : IDisposable
{
    private static readonly string[] Prompts = ["the computer", "", "never trust a", "science is what"];
    private readonly string _directory = Directory.CreateTempSubdirectory("mldx-lm-").FullName;

    [Fact]
    public void SavedChain_LoadsInAFreshContextAndProcess_WithIdenticalLogitsAndGeneration()
    {
        var zip = Path.Combine(_directory, "fortunes-lm.zip");
        fortunes.MLContext.Model.Save(fortunes.Chain, fortunes.TrainingData.Schema, zip);
        var expectedText = fortunes.Model.Generate(Prompts);
        var expectedLogProbabilities = Prompts.Select(fortunes.Model.NextTokenLogProbabilities).ToArray();

        var fresh = new MLContext();
        var loaded = fresh.Model.Load(zip, out _);
        var model = Assert.IsType<LanguageModelTransformer>(((Microsoft.ML.Data.TransformerChain<ITransformer>)loaded).LastTransformer);
        Assert.IsType<TokenizingTransformer>(((Microsoft.ML.Data.TransformerChain<ITransformer>)loaded).First());
        Assert.Equal(fortunes.Model.Network.ToJson(), model.Network.ToJson());
        Assert.Equal(fortunes.Model.History.Count, model.History.Count);
        Assert.Equal(fortunes.Tokenizer.Words, model.Tokenizer.Words);
        Assert.Equal(expectedLogProbabilities, Prompts.Select(model.NextTokenLogProbabilities).ToArray());
        Assert.Equal(expectedText, model.Generate(Prompts));

        var (type, continuations, logProbabilities) = RunProbe(zip);
        Assert.Equal(typeof(LanguageModelTransformer).FullName, type);
        Assert.Equal(expectedText, continuations);
        Assert.Equal(expectedLogProbabilities, logProbabilities);
    }

    [Fact]
    public void SavedModel_AloneWithoutTheChain_CarriesItsTokenizer()
    {
        var zip = Path.Combine(_directory, "lm-only.zip");
        fortunes.MLContext.Model.Save(fortunes.Model, fortunes.TrainingData.Schema, zip);
        var loaded = Assert.IsType<LanguageModelTransformer>(new MLContext().Model.Load(zip, out _));
        Assert.Equal(fortunes.Tokenizer.VocabularySize, loaded.Tokenizer.VocabularySize);
        Assert.Equal(fortunes.Model.Generate(Prompts), loaded.Generate(Prompts));
    }

    [Fact]
    public void DamagedWeights_ThrowInvalidData_NotANativeCrash()
    {
        var zip = Path.Combine(_directory, "damaged.zip");
        fortunes.MLContext.Model.Save(fortunes.Model, fortunes.TrainingData.Schema, zip);
        using (var archive = System.IO.Compression.ZipFile.Open(zip, System.IO.Compression.ZipArchiveMode.Update))
        {
            var entry = archive.Entries.Single(e => e.FullName.EndsWith("Weights.bin", StringComparison.Ordinal));
            var bytes = new byte[entry.Length / 2];
            using (var stream = entry.Open())
                stream.ReadExactly(bytes);
            entry.Delete();
            using var replaced = archive.CreateEntry(entry.FullName).Open();
            replaced.Write(bytes);
        }
        var ex = Assert.ThrowsAny<Exception>(() => new MLContext().Model.Load(zip, out _));
        Assert.Contains("weights", ex.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    private (string Type, string[] Continuations, float[][] LogProbabilities) RunProbe(string zip)
    {
        var input = Path.Combine(_directory, "prompts.json");
        var output = Path.Combine(_directory, "generated.json");
        File.WriteAllText(input, JsonSerializer.Serialize(Prompts));
        var (exitCode, stdout, stderr) = ProbeRunner.Run("generate", zip, input, output);
        Assert.True(exitCode == 0, $"probe failed ({exitCode}): {stderr} {stdout}");
        var result = JsonSerializer.Deserialize<ProbeResult>(File.ReadAllText(output))!;
        return (result.Type, result.Continuations, result.LogProbabilities);
    }

    private sealed record ProbeResult(string Type, string[] Continuations, float[][] LogProbabilities);

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

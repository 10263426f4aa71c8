using System;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using Microsoft.ML;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.TestSupport;
using TorchSharp;
using Xunit;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>
/// Issue 10, "Corrupted weights load and score silently": every stream of the network format is hashed (SHA-256 in the
/// header's integrity record) and verified on load; non-finite weights are rejected in every format version.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class ModelFileIntegrityTests(DigitsModel digits) : IClassFixture<DigitsModel>
{
    private const string Weights = "TransformerChain/Weights.bin";
    private const string ModelStream = "TransformerChain/Model.key";

    [Fact]
    public void IntactZip_LoadsAndScoresBitIdentically()
    {
        using var loaded = (NeuralNetworkTransformer)new MLContext().Model.Load(digits.Copy("intact"), out _);
        Assert.Equal(digits.Scores, TestData.Scores(loaded.Transform(digits.Test)));
    }

    [Fact]
    public void SixteenFlippedBytesInTheWeights_FailToLoad_NamingTheEntry()
    {
        var zip = digits.Copy("flipped");
        var weights = ModelZipSurgery.Read(zip, Weights);
        var floats = ModelZipSurgery.SingleTensors(weights).Values.First(t => t.Bytes >= 64);
        var damaged = (byte[])weights.Clone();
        var random = new Random(16);
        for (var i = 0; i < 16; i++)
            damaged[floats.Offset + random.Next(floats.Bytes)] ^= (byte)random.Next(1, 256);
        ModelZipSurgery.Replace(zip, Weights, damaged);

        Damage.AssertLoadFails(zip, "The model is damaged", Weights, "SHA-256");
    }

    [Fact]
    public void NaNBytesInTheWeights_FailToLoad()
    {
        var zip = digits.Copy("nan");
        var weights = ModelZipSurgery.Read(zip, Weights);
        foreach (var (offset, bytes) in ModelZipSurgery.SingleTensors(weights).Values)
        {
            for (var i = offset; i < offset + bytes; i += 4)
                BitConverter.TryWriteBytes(weights.AsSpan(i), float.NaN);
        }
        ModelZipSurgery.Replace(zip, Weights, weights);

        Damage.AssertLoadFails(zip, "The model is damaged", Weights);
    }

    [Fact]
    public void NaNWeights_WithRecomputedHashes_FailToLoadNamingTheTensor()
    {
        // Whoever rewrites the weights and their hash (or a model saved with NaN weights) still meets the finiteness check.
        var zip = digits.Copy("nan-rehashed");
        var weights = ModelZipSurgery.Read(zip, Weights);
        var (name, (offset, _)) = ModelZipSurgery.SingleTensors(weights).First();
        BitConverter.TryWriteBytes(weights.AsSpan(offset), float.PositiveInfinity);
        ModelZipSurgery.ReplaceStreamAndRehash(zip, "TransformerChain", "Weights.bin", weights);

        Damage.AssertLoadFails(zip, "The model is damaged", Weights, "NaN or infinite", $"'{name}'");
    }

    [Fact]
    public void ModelSavedWithNaNWeights_FailsToLoad()
    {
        var mlContext = new MLContext(seed: 1);
        using var model = (NeuralNetworkTransformer)mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions
        {
            Network = ML.DeepExtensions.Networks.Network.Create().Dense(8).ReLU(),
            Epochs = 1,
        }).Fit(digits.Test);
        using (torch.no_grad())
            model.Model.Module.parameters().First().fill_(float.NaN);
        var zip = Path.Combine(digits.Directory, "saved-nan.zip");
        mlContext.Model.Save(model, digits.Test.Schema, zip);

        Damage.AssertLoadFails(zip, "The model is damaged", Weights, "NaN or infinite");
    }

    [Fact]
    public void SavedModel_RecordsTheHashOfItsHeaderAndWeights()
    {
        var (header, integrity) = ModelZipSurgery.ReadHeader(ModelZipSurgery.Read(digits.Zip, ModelStream));
        Assert.NotNull(integrity); // format version 3 writes an integrity record after the header
        var record = JsonNode.Parse(integrity)!;
        Assert.Equal("SHA-256", (string?)record["algorithm"]);
        Assert.Equal(ModelZipSurgery.Sha256(System.Text.Encoding.UTF8.GetBytes(header)), (string?)record["header"]);
        Assert.Equal(ModelZipSurgery.Sha256(ModelZipSurgery.Read(digits.Zip, Weights)), (string?)record["streams"]!["Weights.bin"]);
    }

    [Fact]
    public void HeaderEditedWithoutItsHash_FailsToLoad()
    {
        // An edit that changes no prediction (the training history) is caught by the hash alone.
        var zip = digits.Copy("header-edited");
        ModelZipSurgery.EditHeader(zip, ModelStream, json => json["history"]![0]!["epoch"] = 7, rehash: false);

        Damage.AssertLoadFails(zip, "The model is damaged", ModelStream, "SHA-256");
    }

    [Fact]
    public void WeightsEntryMissing_FailsToLoadNamingIt()
    {
        var zip = digits.Copy("no-weights");
        using (var archive = System.IO.Compression.ZipFile.Open(zip, System.IO.Compression.ZipArchiveMode.Update))
            archive.GetEntry(Weights)!.Delete();

        Damage.AssertLoadFails(zip, "The model is damaged", Weights, "missing");
    }

    [Fact]
    public void Version1ZipWithNaNWeights_FailsToLoad()
    {
        // Zips saved before format version 3 carry no hashes and still load (LegacyModelFormatTests); non-finite weights are rejected there too.
        var zip = Path.Combine(digits.Directory, "v1-nan.zip");
        File.Copy(ModelFormatFixtures.Zip("vector-regression"), zip, overwrite: true);
        var weights = ModelZipSurgery.Read(zip, Weights);
        var (_, (offset, _)) = ModelZipSurgery.SingleTensors(weights).Last();
        BitConverter.TryWriteBytes(weights.AsSpan(offset), float.NaN);
        ModelZipSurgery.Replace(zip, Weights, weights);

        Damage.AssertLoadFails(zip, "The model is damaged", Weights, "NaN or infinite");
    }
}

using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.TestSupport;
using Xunit;

namespace ML.DeepExtensions.Tests.Persistence;

public class PersistenceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mldx-persist").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private (ITransformer Model, IDataView Test, MLContext Context) TrainDigits()
    {
        var mlContext = new MLContext(1);
        var (train, test) = TestData.DigitsSplit(mlContext);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions
        {
            Network = Network.Create().Reshape(1, 8, 8).Conv2d(8, 3, padding: 1).BatchNorm().ReLU().MaxPool2d(2).Flatten().Dense(16).ReLU().Dropout(0.1),
            Epochs = 2,
        }).Fit(train);
        return (model, test, mlContext);
    }

    [Fact]
    public void SaveThenLoad_InAFreshProcess_GivesOurTypeAndBitIdenticalScores()
    {
        var (model, test, mlContext) = TrainDigits();
        var zip = Path.Combine(_directory, "model.zip");
        mlContext.Model.Save(model, test.Schema, zip);
        var expected = TestData.Scores(model.Transform(test));

        var features = test.GetColumn<float[]>("Features").ToArray();
        var featuresFile = Path.Combine(_directory, "features.bin");
        ProbeRunner.WriteFeatures(featuresFile, features);

        var scoresFile = Path.Combine(_directory, "scores.bin");
        var (exitCode, stdout, stderr) = ProbeRunner.Run("features", zip, featuresFile, scoresFile);
        Assert.True(exitCode == 0, $"probe failed ({exitCode}): {stderr}");
        Assert.Contains(typeof(NeuralNetworkTransformer).FullName!, stdout);
        Assert.Equal(expected, ProbeRunner.ReadScores(scoresFile));
    }

    [Fact]
    public void SaveThenLoad_InANewContext_KeepsHistoryNetworkAndClassNames()
    {
        var (model, test, mlContext) = TrainDigits();
        var zip = Path.Combine(_directory, "model.zip");
        mlContext.Model.Save(model, test.Schema, zip);
        var loaded = Assert.IsType<NeuralNetworkTransformer>(new MLContext().Model.Load(zip, out var schema));
        var original = (NeuralNetworkTransformer)model;
        Assert.Equal(original.Network.ToJson(), loaded.Network.ToJson());
        Assert.Equal(original.History.Select(h => h.ToString()), loaded.History.Select(h => h.ToString()));
        Assert.Equal(original.ClassNames, loaded.ClassNames);
        Assert.Equal(TestData.Scores(model.Transform(test)), TestData.Scores(loaded.Transform(test)));
        Assert.NotNull(schema.GetColumnOrNull("Features"));
    }

    [Theory]
    [InlineData("truncate")]
    [InlineData("garbage")]
    [InlineData("weights")]
    public void CorruptedZip_ThrowsAClearException_NotANativeCrash(string damage)
    {
        var (model, test, mlContext) = TrainDigits();
        var zip = Path.Combine(_directory, "model.zip");
        mlContext.Model.Save(model, test.Schema, zip);
        var bytes = File.ReadAllBytes(zip);
        switch (damage)
        {
            case "truncate":
                File.WriteAllBytes(zip, bytes[..(bytes.Length / 2)]);
                break;
            case "garbage":
                new Random(1).NextBytes(bytes.AsSpan(bytes.Length / 2, 256));
                File.WriteAllBytes(zip, bytes);
                break;
            default:
                // Replace the weights entry with a few bytes: the zip stays valid, the weights do not.
                using (var archive = System.IO.Compression.ZipFile.Open(zip, System.IO.Compression.ZipArchiveMode.Update))
                {
                    var entry = archive.Entries.Single(e => e.FullName.EndsWith("Weights.bin", StringComparison.Ordinal));
                    var name = entry.FullName;
                    entry.Delete();
                    using var stream = archive.CreateEntry(name).Open();
                    stream.Write(new byte[] { 1, 2, 3 });
                }
                break;
        }
        var ex = Record.Exception(() => new MLContext().Model.Load(zip, out _));
        Assert.NotNull(ex);
        Assert.IsNotType<NullReferenceException>(ex);
        Assert.IsNotType<AccessViolationException>(ex);
        if (damage == "weights")
        {
            var inner = ex is InvalidDataException ? ex : ex.InnerException;
            Assert.IsType<InvalidDataException>(inner);
            Assert.Contains("weights", inner!.Message);
        }
    }
}

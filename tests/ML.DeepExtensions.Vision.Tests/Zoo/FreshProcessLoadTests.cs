using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Vision.Zoo;
using ML.DeepExtensions.TestSupport;
using Xunit;

namespace ML.DeepExtensions.Vision.Tests.Zoo;

/// <summary>
/// A model zip whose network names <c>ResNet18</c> loads in a process that never touched the vision assembly in
/// code: the scoring probe references only the core package's API; the vision assembly merely sits beside it.
/// </summary>
public sealed class FreshProcessLoadTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mldx-zoo").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"'{relative}' not found above {AppContext.BaseDirectory}.");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void ResNetModel_SavedHere_ScoresIdenticallyInAProcessThatNeverReferencedTheZoo()
    {
        var mlContext = new MLContext(1);
        // Real 8×8 digits (data/digits, see DATA.md): 64 pixel counts in [0, 16], label = the digit.
        var raw = mlContext.Data.LoadFromTextFile(RepoFile("data/digits/digits.csv"), new[]
        {
            new TextLoader.Column("Pixels", DataKind.Single, 0, 63),
            new TextLoader.Column("Digit", DataKind.String, 64),
        }, separatorChar: ',');
        var prepared = mlContext.Transforms.Expression("Features", "x => x / 16", "Pixels")
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label", "Digit"))
            .Fit(raw).Transform(raw);
        var train = mlContext.Data.Cache(mlContext.Data.TakeRows(prepared, 240));
        var test = mlContext.Data.Cache(mlContext.Data.TakeRows(mlContext.Data.SkipRows(prepared, 1500), 40));

        var network = Network.Create().Reshape(1, 8, 8).Add(VisionArchitectures.ResNet18(width: 0.125, smallInput: true, channels: 1).Layers.Single());
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = network, Epochs = 1, BatchSize = 32 })
            .Fit(train);
        var zip = Path.Combine(_directory, "model.zip");
        mlContext.Model.Save(model, test.Schema, zip);
        var expected = model.Transform(test).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();

        var features = test.GetColumn<float[]>("Features").ToArray();
        var featuresFile = Path.Combine(_directory, "features.bin");
        ProbeRunner.WriteFeatures(featuresFile, features);
        var scoresFile = Path.Combine(_directory, "scores.bin");
        var (exitCode, stdout, stderr) = ProbeRunner.Run("features", zip, featuresFile, scoresFile);
        Assert.True(exitCode == 0, $"probe failed ({exitCode}): {stdout} {stderr}");
        var actual = ProbeRunner.ReadScores(scoresFile);
        Assert.Equal(40 * 10, actual.Length);
        Assert.Equal(expected, actual);
    }
}

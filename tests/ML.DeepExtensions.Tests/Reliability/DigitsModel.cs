using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>
/// One small multiclass network on the 8×8 digits (BatchNorm included, so the weights stream holds buffers and an Int64
/// counter too), trained once and saved once; tests copy its zip and damage the copy.
/// </summary>
public sealed class DigitsModel : IDisposable
{
    public DigitsModel()
    {
        MLContext = new MLContext(seed: 1);
        (var train, Test) = TestData.DigitsSplit(MLContext);
        Model = (NeuralNetworkTransformer)MLContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions
        {
            Network = Network.Create().Dense(24).BatchNorm().ReLU(),
            Epochs = 2,
        }).Fit(train);
        Directory = System.IO.Directory.CreateTempSubdirectory("mldx-reliability-").FullName;
        Zip = Path.Combine(Directory, "digits.zip");
        MLContext.Model.Save(Model, Test.Schema, Zip);
        Scores = TestData.Scores(Model.Transform(Test));
    }

    public MLContext MLContext { get; }

    public IDataView Test { get; }

    public NeuralNetworkTransformer Model { get; }

    public string Directory { get; }

    /// <summary>The saved zip; never modify it, copy it with <see cref="Copy"/>.</summary>
    public string Zip { get; }

    /// <summary>The Score column of the test split, all slots of all rows.</summary>
    public float[] Scores { get; }

    /// <summary>A fresh copy of the saved zip.</summary>
    public string Copy(string name)
    {
        var path = Path.Combine(Directory, name + ".zip");
        File.Copy(Zip, path, overwrite: true);
        return path;
    }

    public void Dispose()
    {
        Model.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

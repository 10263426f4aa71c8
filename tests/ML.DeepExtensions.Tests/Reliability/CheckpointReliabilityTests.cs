using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Tests.Trainers;
using ML.DeepExtensions.Training;
using Xunit;
using static ML.DeepExtensions.Tests.Reliability.ReliabilityData;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>Issue 10: bit-exact resume (dropout, batch norm, drop-path) and checkpoint settings checked before the first epoch.</summary>
[Trait("Category", "Reliability")]
public class CheckpointReliabilityTests
{
    [Fact]
    public void Resume_WithDropoutBatchNormAndDropPath_IsBitIdenticalToAnUninterruptedRun()
    {
        var directory = Directory.CreateTempSubdirectory("mldx-rel-ckpt").FullName;
        try
        {
            var mlContext = new MLContext(1);
            var (x, keys) = Classes(200, features: 8);
            var data = mlContext.Data.Cache(KeyData(mlContext, x, keys));
            var body = Network.Create().Dense(16).BatchNorm().ReLU().Dropout(0.3);
            var network = Network.Create().Dense(16).ReLU()
                .Residual(body, activation: ActivationKind.ReLU, dropPath: 0.3).Dropout(0.2);
            NeuralNetworkMulticlassOptions Options(int epochs) => new() { Network = network, Epochs = epochs, BatchSize = 32 };

            var full = new MLContext(5).MulticlassClassification.Trainers.NeuralNetwork(Options(4)).Fit(data);
            var first = Options(2);
            first.CheckpointDirectory = directory;
            new MLContext(5).MulticlassClassification.Trainers.NeuralNetwork(first).Fit(data);
            var resumed = Options(4);
            resumed.ResumeFromCheckpoint = directory;
            var model = new MLContext(5).MulticlassClassification.Trainers.NeuralNetwork(resumed).Fit(data);

            Assert.Equal(full.History.Select(h => h.TrainingLoss), model.History.Select(h => h.TrainingLoss));
            Assert.Equal(TestData.Scores(full.Transform(data)), TestData.Scores(model.Transform(data)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }


    [Fact]
    public void CheckpointDirectory_ThatIsAFile_ThrowsWhenTheTrainerIsCreated()
    {
        var file = Path.GetTempFileName();
        try
        {
            var mlContext = new MLContext(1);
            var options = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 1, CheckpointDirectory = file };
            var ex = Assert.ThrowsAny<Exception>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(options));
            Assert.Contains("CheckpointDirectory", ex.Message);
            Assert.Contains("is a file", ex.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void CheckpointDirectory_NotWritable_ThrowsBeforeTheFirstEpoch()
    {
        // /proc refuses new files even for root, so the test holds for any user.
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(64);
        var epochs = 0;
        var options = new NeuralNetworkMulticlassOptions
        {
            Network = Network.Mlp([8]), Epochs = 2, CheckpointDirectory = "/proc",
            Progress = new SynchronousProgress<EpochMetrics>(_ => epochs++),
        };
        var ex = Assert.ThrowsAny<IOException>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(KeyData(mlContext, x, keys)));
        Assert.Equal(0, epochs);
        Assert.Contains("CheckpointDirectory '/proc'", ex.Message);
        Assert.Contains("not writable", ex.Message);
    }

    [Fact]
    public void CheckpointDirectory_ThatCannotBeCreated_ThrowsBeforeTheFirstEpoch()
    {
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(64);
        var epochs = 0;
        var options = new NeuralNetworkMulticlassOptions
        {
            Network = Network.Mlp([8]), Epochs = 2, CheckpointDirectory = "/proc/mldx-checkpoints",
            Progress = new SynchronousProgress<EpochMetrics>(_ => epochs++),
        };
        var ex = Assert.ThrowsAny<IOException>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(KeyData(mlContext, x, keys)));
        Assert.Equal(0, epochs);
        Assert.Contains("CheckpointDirectory '/proc/mldx-checkpoints'", ex.Message);
    }

    [Fact]
    public void Resume_WithFewerEpochsThanTheCheckpointHolds_Throws()
    {
        var directory = Directory.CreateTempSubdirectory("mldx-rel-ckpt").FullName;
        try
        {
            var mlContext = new MLContext(1);
            var (x, keys) = Classes(64);
            var data = KeyData(mlContext, x, keys);
            var first = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 3, CheckpointDirectory = directory };
            mlContext.MulticlassClassification.Trainers.NeuralNetwork(first).Fit(data);
            var resumed = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 2, ResumeFromCheckpoint = directory };
            var ex = Assert.Throws<ArgumentException>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(resumed).Fit(data));
            Assert.Contains("Epochs", ex.Message);
            Assert.Contains("3 completed epochs", ex.Message);
            Assert.Contains("Received: Epochs=2", ex.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Checkpoint_LeftoverTemporaryFile_IsRemovedWhenTrainingStarts()
    {
        // A kill during a checkpoint write leaves checkpoint.bin.tmp behind; the next run must not keep it.
        var directory = Directory.CreateTempSubdirectory("mldx-rel-ckpt").FullName;
        try
        {
            var leftover = Path.Combine(directory, "checkpoint.bin.tmp");
            File.WriteAllBytes(leftover, new byte[100]);
            var mlContext = new MLContext(1);
            var (x, keys) = Classes(64);
            using var cancel = new CancellationTokenSource();
            cancel.Cancel();
            var options = new NeuralNetworkMulticlassOptions
            {
                Network = Network.Mlp([8]), Epochs = 2, CheckpointDirectory = directory, CancellationToken = cancel.Token, DataLoading = DataLoading.InMemory,
            };
            Assert.ThrowsAny<OperationCanceledException>(() => mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(KeyData(mlContext, x, keys)));
            Assert.False(File.Exists(leftover));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
    [Fact]
    public void Resume_FromAFormatVersion1Checkpoint_StillWorks()
    {
        // Version 1 (before the generators' states were added) ended after the best weights: resuming from it must
        // work, without the generators' states (dropout then draws other masks than an uninterrupted run would).
        var directory = Directory.CreateTempSubdirectory("mldx-rel-ckpt").FullName;
        try
        {
            var mlContext = new MLContext(1);
            var (x, keys) = Classes(64);
            var data = KeyData(mlContext, x, keys);
            var first = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8], dropout: 0.2), Epochs = 1, CheckpointDirectory = directory };
            mlContext.MulticlassClassification.Trainers.NeuralNetwork(first).Fit(data);

            var path = Path.Combine(directory, "checkpoint.bin");
            var bytes = File.ReadAllBytes(path);
            long stateLength;
            using (var state = TorchSharp.torch.random.get_rng_state())
                stateLength = state.numel();
            var v1 = bytes.AsSpan(0, bytes.Length - (int)(2 * (4 + stateLength))).ToArray();
            var versionOffset = 1 + "MLDX-CHECKPOINT".Length;   // BinaryWriter string: length byte, then UTF-8
            Assert.Equal(2, BitConverter.ToInt32(v1, versionOffset));
            BitConverter.GetBytes(1).CopyTo(v1, versionOffset);
            File.WriteAllBytes(path, v1);

            var resumed = new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8], dropout: 0.2), Epochs = 2, ResumeFromCheckpoint = directory };
            var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(resumed).Fit(data);
            Assert.Equal(2, model.History.Count);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

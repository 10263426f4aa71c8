using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.TestSupport;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.TrainingProbe;
using TorchSharp;
using Xunit;

namespace ML.DeepExtensions.Vision.Tests.Reliability;

/// <summary>
/// Issue 10: a resumed run equals an uninterrupted one bit for bit with every source of randomness — shuffling,
/// augmentation layers (RandomFlip, RandomCrop, RandomErasing), batch norm, a Residual with drop-path and dropout —
/// after a clean stop and after a SIGKILL in the middle of an epoch (<see cref="TrainingScenarios"/>).
/// </summary>
[Trait("Category", "Reliability")]
public class ResumeReliabilityTests
{
    private static NeuralNetworkTransformer Train(NeuralNetworkMulticlassOptions options, int rows)
    {
        var mlContext = new MLContext(TrainingScenarios.Seed);
        return mlContext.MulticlassClassification.Trainers.NeuralNetwork(options).Fit(TrainingScenarios.Images(mlContext, rows));
    }

    /// <summary>Asserts that two trained models hold the same state (weights and batch-norm statistics) bit for bit.</summary>
    private static void AssertSameState(NeuralNetworkTransformer expected, NeuralNetworkTransformer actual)
    {
        var a = expected.Model.Module.state_dict();
        var b = actual.Model.Module.state_dict();
        Assert.Equal(a.Keys, b.Keys);
        var different = a.Keys.Where(k => !a[k].equal(b[k]).all().item<bool>()).ToArray();
        Assert.True(different.Length == 0, $"{different.Length} of {a.Count} tensors differ: {string.Join(", ", different.Take(8))}");
    }

    [Fact]
    public void Resume_AfterACleanStop_WithAugmentationDropoutBatchNormAndDropPath_IsBitIdentical()
    {
        // Before the generators were checkpointed: training losses differed from the first resumed epoch on.
        var directory = Directory.CreateTempSubdirectory("mldx-resume").FullName;
        try
        {
            const int rows = 91;    // batches of 15: the last one holds one row and joins the one before it
            using var full = Train(TrainingScenarios.ResumeOptions(3), rows);
            var first = TrainingScenarios.ResumeOptions(1);
            first.CheckpointDirectory = directory;
            using (Train(first, rows))
            {
            }
            var resumed = TrainingScenarios.ResumeOptions(3);
            resumed.ResumeFromCheckpoint = directory;
            using var model = Train(resumed, rows);

            Assert.Equal(full.History.Select(h => h.TrainingLoss), model.History.Select(h => h.TrainingLoss));
            AssertSameState(full, model);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Resume_AfterASigkillMidEpoch_IsBitIdenticalToAnUninterruptedRun()
    {
        var directory = Directory.CreateTempSubdirectory("mldx-kill").FullName;
        try
        {
            var checkpoint = Checkpoint.FilePath(directory);
            using (var probe = TrainingProbeRunner.Start("checkpoint", directory, "3"))
            {
                var clock = Stopwatch.StartNew();
                while (!File.Exists(checkpoint) && !probe.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
                    Thread.Sleep(5);
                if (!File.Exists(checkpoint))
                    Assert.Fail($"no checkpoint after {clock.Elapsed}: {probe.StandardError.ReadToEnd()}");
                var found = clock.Elapsed;
                probe.Kill();   // SIGKILL: no handler, no finally, no flush
                probe.WaitForExit();
                var output = probe.StandardOutput.ReadToEnd();
                Assert.True(probe.ExitCode == 128 + 9, $"exit code {probe.ExitCode}, checkpoint seen after {found}; output: {output}");
                Assert.DoesNotContain("done", output);
            }
            // Killed in epoch 2: the checkpoint on disk is still the one of epoch 1.
            Assert.Equal(1, Checkpoint.ReadHeader(directory).CompletedEpochs);

            var resumed = TrainingScenarios.ResumeOptions(3);
            resumed.ResumeFromCheckpoint = directory;
            using var model = Train(resumed, TrainingScenarios.ResumeRows);
            using var full = Train(TrainingScenarios.ResumeOptions(3), TrainingScenarios.ResumeRows);

            Assert.Equal(3, model.History.Count);
            Assert.Equal(full.History.Select(h => h.TrainingLoss), model.History.Select(h => h.TrainingLoss));
            AssertSameState(full, model);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

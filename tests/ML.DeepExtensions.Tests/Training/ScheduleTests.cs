using System;
using ML.DeepExtensions.Training;
using Xunit;

namespace ML.DeepExtensions.Tests.Training;

public class ScheduleTests
{
    private static double Rate(LearningRateSchedule schedule, int epoch, double progress = 0, double warmup = 0)
        => TrainingLoop.LearningRateAt(new TrainerOptions { LearningRate = 0.1, Epochs = 10, Schedule = schedule, WarmupEpochs = warmup }, 1, epoch, progress);

    [Fact]
    public void Constant_StaysAtBase() => Assert.Equal(0.1, Rate(LearningRateSchedule.Constant(), 7), 12);

    [Fact]
    public void StepDecay_MultipliesEveryStep()
    {
        var s = LearningRateSchedule.StepDecay(3, 0.5);
        Assert.Equal(0.1, Rate(s, 2), 12);
        Assert.Equal(0.05, Rate(s, 3), 12);
        Assert.Equal(0.025, Rate(s, 6), 12);
    }

    [Fact]
    public void Cosine_GoesFromBaseToMinimum()
    {
        var s = LearningRateSchedule.Cosine(0.1);
        Assert.Equal(0.1, Rate(s, 0), 12);
        Assert.Equal(0.1 * (0.1 + 0.9 * 0.5), Rate(s, 5), 12);
        Assert.Equal(0.01, Rate(s, 9, 0.999999), 6);
    }

    [Fact]
    public void OneCycle_PeaksAtWarmupFraction()
    {
        var s = LearningRateSchedule.OneCycle(warmupFraction: 0.3, divFactor: 25);
        Assert.Equal(0.1 / 25, Rate(s, 0), 12);
        Assert.Equal(0.1, Rate(s, 3), 12);
        Assert.True(Rate(s, 9, 0.99) < 0.1 / 25);
    }

    [Fact]
    public void Warmup_RampsLinearly()
    {
        Assert.Equal(0.05, Rate(LearningRateSchedule.Constant(), 1, 0, warmup: 2), 12);
        Assert.Equal(0.1, Rate(LearningRateSchedule.Constant(), 4, 0, warmup: 2), 12);
    }

    [Fact]
    public void ReduceOnPlateau_UnknownMonitor_Throws()
        => Assert.Throws<ArgumentException>(() => LearningRateSchedule.ReduceOnPlateau("Accuracy"));
}

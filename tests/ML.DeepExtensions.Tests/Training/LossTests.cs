using System;
using ML.DeepExtensions.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tests.Training;

/// <summary>Each loss against a value computed by hand.</summary>
public class LossTests
{
    public LossTests() => Runtime.TorchRuntime.EnsureInitialized();

    [Fact]
    public void MeanSquaredError_IsMeanOfSquares()
    {
        using var loss = Losses.Regression(RegressionLoss.MeanSquaredError, torch.tensor(new[] { 1f, 2f }), torch.tensor(new[] { 0f, 0f }));
        Assert.Equal((1 + 4) / 2.0, loss.ToDouble(), 6);
    }

    [Fact]
    public void MeanAbsoluteAndHuber_MatchDefinitions()
    {
        var p = torch.tensor(new[] { 0.5f, 3f });
        var y = torch.tensor(new[] { 0f, 0f });
        Assert.Equal((0.5 + 3) / 2, Losses.Regression(RegressionLoss.MeanAbsoluteError, p, y).ToDouble(), 6);
        Assert.Equal((0.5 * 0.25 + (3 - 0.5)) / 2, Losses.Regression(RegressionLoss.Huber, p, y).ToDouble(), 6);
    }

    [Fact]
    public void BinaryCrossEntropy_OnLogits()
    {
        // logits 0 and 2 for labels 1 and 0: −[ln σ(0) + ln(1 − σ(2))]/2
        using var loss = Losses.BinaryCrossEntropy(torch.tensor(new[] { 0f, 2f }), torch.tensor(new[] { 1f, 0f }));
        var expected = -(Math.Log(0.5) + Math.Log(1 - 1 / (1 + Math.Exp(-2)))) / 2;
        Assert.Equal(expected, loss.ToDouble(), 5);
    }

    [Fact]
    public void CategoricalCrossEntropy_WithWeightsAndSmoothing()
    {
        var logits = torch.tensor(new[] { 2f, 0f, 0f, 1f }, [2, 2]);
        var classes = torch.tensor(new long[] { 0, 1 });
        var p0 = Math.Exp(2) / (Math.Exp(2) + 1); // row 0: P(class 0)
        var p1 = Math.E / (Math.E + 1);           // row 1: P(class 1)
        Assert.Equal(-(Math.Log(p0) + Math.Log(p1)) / 2, Losses.CategoricalCrossEntropy(logits, classes, null, 0).ToDouble(), 5);

        // Weighted mean: Σ wᵢ·lossᵢ / Σ wᵢ with weights 1 (class 0) and 3 (class 1).
        var weighted = Losses.CategoricalCrossEntropy(logits, classes, torch.tensor(new[] { 1f, 3f }), 0).ToDouble();
        Assert.Equal((-Math.Log(p0) - 3 * Math.Log(p1)) / 4, weighted, 5);

        // Smoothing ε = 0.2, K = 2: targets 0.9 / 0.1.
        var smoothed = Losses.CategoricalCrossEntropy(logits, classes, null, 0.2).ToDouble();
        var row0 = -(0.9 * Math.Log(p0) + 0.1 * Math.Log(1 - p0));
        var row1 = -(0.9 * Math.Log(p1) + 0.1 * Math.Log(1 - p1));
        Assert.Equal((row0 + row1) / 2, smoothed, 5);
    }
}

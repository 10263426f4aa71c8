using System;
using System.Linq;
using ML.DeepExtensions.Vision.Detection;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Detection;

public sealed class DetectionLossesTests
{
    [Fact]
    public void SmoothL1_HandValues()
    {
        using var input = tensor(new float[] { 0.5f, -2, 0.05f, 1, 3 });
        using var target = tensor(new float[] { 0, 0, 0, 0, 1 });
        using var one = DetectionLosses.SmoothL1(input, target, beta: 1);
        // β = 1: 0.5·0.25 = 0.125; |−2| − 0.5 = 1.5; 0.5·0.0025 = 0.00125; 0.5·1 = 0.5 (|d| = β is the linear side, same value); 2 − 0.5 = 1.5.
        Assert.Equal(new[] { 0.125f, 1.5f, 0.00125f, 0.5f, 1.5f }, one.data<float>().ToArray(), new Tolerance(1e-6f));
        using var ninth = DetectionLosses.SmoothL1(input, target, beta: 1.0 / 9);
        // β = 1/9: only 0.05 is quadratic: 0.5·0.0025·9 = 0.01125; the rest |d| − 1/18.
        Assert.Equal(new[] { 0.5f - 1f / 18, 2 - 1f / 18, 0.01125f, 1 - 1f / 18, 2 - 1f / 18 }, ninth.data<float>().ToArray(), new Tolerance(1e-6f));
        using var l1 = DetectionLosses.SmoothL1(input, target, beta: 0);
        Assert.Equal(new[] { 0.5f, 2, 0.05f, 1, 2 }, l1.data<float>().ToArray(), new Tolerance(1e-6f));
    }

    [Fact]
    public void CompleteIou_HandValues()
    {
        using var a = tensor(new float[] { 0, 0, 2, 2, 0, 0, 4, 2, 1, 1, 3, 4 }, [3, 4]);
        using var b = tensor(new float[] { 1, 1, 3, 3, 0, 0, 2, 2, 1, 1, 3, 4 }, [3, 4]);
        using var loss = DetectionLosses.CompleteIou(a, b);
        // Same aspect, IoU 1/7, centres (1,1)/(2,2): ρ² 2, enclosing (0,0,3,3): c² 18 → 1 − 1/7 + 2/18.
        var first = 1 - 1.0 / 7 + 2.0 / 18;
        // IoU 4/8, centres (2,1)/(1,1): ρ² 1, enclosing (0,0,4,2): c² 20; v = 4/π²·(atan 2 − atan 1)², α = v / (0.5 + v).
        var v = 4 / (Math.PI * Math.PI) * Math.Pow(Math.Atan(2) - Math.Atan(1), 2);
        var second = 0.5 + 1.0 / 20 + v / (0.5 + v) * v;
        Assert.Equal(new[] { (float)first, (float)second, 0 }, loss.data<float>().ToArray(), new Tolerance(1e-5f));
        using var swapped = DetectionLosses.CompleteIou(b, a);
        Assert.Equal(loss.data<float>().ToArray(), swapped.data<float>().ToArray(), new Tolerance(1e-6f));
    }

    [Fact]
    public void Losses_ShapeMismatch_ThrowNamingTheArgument()
    {
        using var a = zeros(3, 4);
        using var b = zeros(2, 4);
        Assert.Equal("target", Assert.Throws<ArgumentException>(() => DetectionLosses.SmoothL1(a, b)).ParamName);
        Assert.Equal("boxes2", Assert.Throws<ArgumentException>(() => DetectionLosses.CompleteIou(a, b)).ParamName);
        using var c = zeros(3, 5);
        Assert.Equal("boxes1", Assert.Throws<ArgumentException>(() => DetectionLosses.CompleteIou(c, c)).ParamName);
    }

    private sealed class Tolerance(float tolerance) : System.Collections.Generic.IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}

using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using ML.DeepExtensions.Vision.Detection;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Detection;

public sealed class RoiAlignTests
{
    [Fact]
    public void RoiAlign_ConstantFeatures_GiveTheConstantInsideAndZeroFarOutside()
    {
        using var features = full(1, 2, 8, 8, 3f);
        // Inside the map; then a region more than a pixel beyond the map, which samples nothing.
        using var rois = tensor(new float[] { 0, 1, 1, 5, 6, 0, 20, 20, 30, 30 }, [2, 5]);
        using var pooled = BoxOperations.RoiAlign(features, rois, 2, 2, samplingRatio: 2);
        Assert.Equal(new long[] { 2, 2, 2, 2 }, pooled.shape);
        var v = pooled.data<float>().ToArray();
        Assert.All(v.Take(8), x => Assert.Equal(3f, x, 6));
        Assert.All(v.Skip(8), x => Assert.Equal(0f, x));
    }

    [Fact]
    public void RoiAlign_LinearRamp_ReadsTheBinCentres()
    {
        // f(y, x) = x: bilinear interpolation is exact, so each bin's mean is the x of its centre (aligned: −0.5 shift).
        using var ramp = arange(16, ScalarType.Float32).view(1, 1, 1, 16).expand(1, 1, 16, 16).contiguous();
        using var rois = tensor(new float[] { 0, 4, 4, 12, 12 }, [1, 5]);
        using var pooled = BoxOperations.RoiAlign(ramp, rois, 1, 4, samplingRatio: 2);
        // Region x from 3.5 to 11.5, four bins of 2 → centres 4.5, 6.5, 8.5, 10.5.
        Assert.Equal(new[] { 4.5f, 6.5f, 8.5f, 10.5f }, pooled.data<float>().ToArray());
    }

    [Fact]
    public void RoiAlign_BadShapes_ThrowNamingTheArgument()
    {
        using var features = zeros(1, 2, 8, 8);
        using var badRois = zeros(3, 4);
        Assert.Equal("rois", Assert.Throws<ArgumentException>(() => BoxOperations.RoiAlign(features, badRois, 2, 2)).ParamName);
        using var flat = zeros(2, 8, 8);
        using var rois = zeros(1, 5);
        Assert.Equal("features", Assert.Throws<ArgumentException>(() => BoxOperations.RoiAlign(flat, rois, 2, 2)).ParamName);
        using var wrongImage = tensor(new float[] { 1, 0, 0, 4, 4 }, [1, 5]);
        var error = Assert.Throws<ArgumentException>(() => BoxOperations.RoiAlign(features, wrongImage, 2, 2));
        Assert.Contains("batch indices in [0, 1)", error.Message);
        using var none = zeros(0, 5);
        using var empty = BoxOperations.RoiAlign(features, none, 3, 3);
        Assert.Equal(new long[] { 0, 2, 3, 3 }, empty.shape);
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void RoiAlign_RandomRegions_MatchesTorchvisionForwardAndBackward()
    {
        var random = new Random(5);
        var settings = new (double Scale, int Sampling, bool Aligned, int OutH, int OutW)[]
        {
            (1, -1, true, 7, 7), (0.5, 2, true, 7, 7), (0.25, 0, true, 3, 5), (0.5, -1, false, 2, 2), (0.125, 2, false, 4, 3), (1, 1, true, 1, 1),
        };
        var cases = settings.Select(s =>
        {
            var (n, c, h, w) = (2, 3, random.Next(5, 20), random.Next(5, 20));
            var features = Enumerable.Range(0, n * c * h * w).Select(_ => random.NextSingle() * 2 - 1).ToArray();
            var k = 24;
            var rois = new float[k * 5];
            var (imageH, imageW) = (h / s.Scale, w / s.Scale);
            for (var i = 0; i < k; i++)
            {
                // Mostly inside, some crossing the border, some tiny or empty.
                var x0 = (random.NextSingle() * 1.3f - 0.15f) * imageW;
                var y0 = (random.NextSingle() * 1.3f - 0.15f) * imageH;
                var size = i % 6 == 0 ? 0 : random.NextSingle() * 0.8f;
                var (rw, rh) = (size * (float)imageW * (0.5f + random.NextSingle()), size * (float)imageH * (0.5f + random.NextSingle()));
                (rois[5 * i], rois[5 * i + 1], rois[5 * i + 2], rois[5 * i + 3], rois[5 * i + 4]) = (random.Next(n), (float)x0, (float)y0, (float)(x0 + rw), (float)(y0 + rh));
            }
            var gradient = Enumerable.Range(0, k * c * s.OutH * s.OutW).Select(_ => random.NextSingle()).ToArray();
            return new RoiCase([n, c, h, w], features, rois, gradient, s.Scale, s.Sampling, s.Aligned, s.OutH, s.OutW);
        }).ToArray();
        var input = Path.Combine(Path.GetTempPath(), $"roialign-{Guid.NewGuid():N}.json");
        File.WriteAllText(input, JsonSerializer.Serialize(cases));
        try
        {
            const string script = """
                import json, sys, torch, torchvision
                out = []
                for c in json.load(open(sys.argv[1])):
                    f = torch.tensor(c['Features'], dtype=torch.float32).view(*c['Shape']).requires_grad_()
                    r = torch.tensor(c['Rois'], dtype=torch.float32).view(-1, 5)
                    y = torchvision.ops.roi_align(f, r, (c['OutH'], c['OutW']), c['Scale'], c['Sampling'], c['Aligned'])
                    (y * torch.tensor(c['Gradient']).view(y.shape)).sum().backward()
                    out.append({'output': y.detach().flatten().tolist(), 'grad': f.grad.flatten().tolist()})
                print(json.dumps(out))
                """;
            var expected = JsonSerializer.Deserialize<JsonElement>(DetectionReference.Run(script, input));
            for (var i = 0; i < cases.Length; i++)
            {
                var c = cases[i];
                using var scope = NewDisposeScope();
                var features = tensor(c.Features, c.Shape).requires_grad_();
                var rois = tensor(c.Rois, [c.Rois.Length / 5, 5]);
                var pooled = BoxOperations.RoiAlign(features, rois, c.OutH, c.OutW, c.Scale, c.Sampling, c.Aligned);
                (pooled * tensor(c.Gradient).view(pooled.shape)).sum().backward();
                var want = expected[i].GetProperty("output").EnumerateArray().Select(e => e.GetSingle()).ToArray();
                var got = pooled.detach().data<float>().ToArray();
                Assert.Equal(want.Length, got.Length);
                var worst = want.Zip(got, (a, b) => Math.Abs(a - b)).Max();
                Assert.True(worst <= 1e-5, $"case {i}: largest difference from torchvision's roi_align {worst:E2}");
                var wantGrad = expected[i].GetProperty("grad").EnumerateArray().Select(e => e.GetSingle()).ToArray();
                // Gradients sum many regions' contributions in a different order: 1e-5 relative to the largest gradient.
                var worstGrad = wantGrad.Zip(features.grad!.data<float>().ToArray(), (a, b) => Math.Abs(a - b)).Max();
                var largest = wantGrad.Max(Math.Abs);
                Assert.True(worstGrad <= 1e-5 * Math.Max(1, largest), $"case {i}: largest gradient difference {worstGrad:E2} (largest gradient {largest:F2})");
                Assert.True(want.Count(v => v != 0) > want.Length / 4, "the case should pool mostly non-zero values");
            }
        }
        finally
        {
            File.Delete(input);
        }
    }

    public sealed record RoiCase(long[] Shape, float[] Features, float[] Rois, float[] Gradient, double Scale, int Sampling, bool Aligned, int OutH, int OutW);
}

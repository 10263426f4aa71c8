using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ML.DeepExtensions.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Audio.Tests;

public sealed class CtcLossTests
{
    private static double Loss(float[] logits, long n, long t, long c, long[] targets, long[] inputLengths, long[] targetLengths)
    {
        using var scope = torch.NewDisposeScope();
        var objective = new CtcObjective(new CharacterVocabulary("abcdefghij"[..(int)(c - 1)]));
        var width = targetLengths.Max();
        var padded = new long[n * width];
        var offset = 0;
        for (var i = 0; i < n; i++)
        {
            Array.Copy(targets, offset, padded, i * width, targetLengths[i]);
            offset += (int)targetLengths[i];
        }
        var extras = new Dictionary<string, Tensor>
        {
            [CtcObjective.OutputLengthsKey] = torch.tensor(inputLengths),
            [CtcObjective.TargetLengthsKey] = torch.tensor(targetLengths),
        };
        var batch = new Batch(torch.zeros(n, 1), torch.tensor(padded, new long[] { n, width }), extras);
        return objective.Loss(torch.tensor(logits, new long[] { n, t, c }), batch).ToDouble();
    }

    [Fact]
    public void Loss_HandCase_SumsTheThreeAlignmentsOfOneCharacter()
    {
        // Two frames, classes blank/'a', softmax P(a) = 0.3 then 0.8. Target "a": paths aa, a_, _a.
        double p1 = 0.3, p2 = 0.8;
        var logits = new[] { (float)Math.Log(1 - p1), (float)Math.Log(p1), (float)Math.Log(1 - p2), (float)Math.Log(p2) };
        var expected = -Math.Log(p1 * p2 + p1 * (1 - p2) + (1 - p1) * p2);
        Assert.Equal(expected, Loss(logits, 1, 2, 2, [1], [2], [1]), 5);
    }

    [Fact]
    public void Loss_HandCase_RepeatedCharacterNeedsTheBlankBetween()
    {
        // Three frames, target "aa": the only alignment is a _ a.
        double[] pa = [0.6, 0.3, 0.7];
        var logits = pa.SelectMany(p => new[] { (float)Math.Log(1 - p), (float)Math.Log(p) }).ToArray();
        var expected = -Math.Log(pa[0] * (1 - pa[1]) * pa[2]) / 2; // mean reduction divides by the target length
        Assert.Equal(expected, Loss(logits, 1, 3, 2, [1, 1], [3], [2]), 5);
    }

    [Fact]
    [Trait("Category", "Reference")]
    public void Loss_MatchesPyTorch()
    {
        const int n = 3, t = 12, c = 6;
        var random = new Random(5);
        var logits = Enumerable.Range(0, n * t * c).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        long[] targets = [1, 2, 2, 3, 4, 5, 1, 2, 3];
        long[] inputLengths = [12, 10, 7];
        long[] targetLengths = [3, 5, 1];
        var folder = Directory.CreateTempSubdirectory("mldx-ctc-").FullName;
        try
        {
            var input = Path.Combine(folder, "logits.f32");
            var output = Path.Combine(folder, "loss.f32");
            Reference.WriteFloats(input, logits);
            Reference.Run("ctc", input, output, $"{t}", $"{n}", $"{c}", string.Join(',', targets), string.Join(',', inputLengths), string.Join(',', targetLengths));
            var reference = Reference.ReadFloats(output);
            Assert.Equal(reference[^1], Loss(logits, n, t, c, targets, inputLengths, targetLengths), 4);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

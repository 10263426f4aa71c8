using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ML.DeepExtensions.Text.Generation;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Generation;

/// <summary>Issue 15: language-model batches are bucketed by length (each batch as wide as its longest text), every text once.</summary>
public class SequenceBucketingTests
{
    [Fact]
    public void BucketedBatches_AreNarrower_AndHoldEveryTextOnce()
    {
        var random = new Random(3);
        // Rows as the tokenizer gives them: padded with 0 to the context length.
        var rows = Enumerable.Range(0, 640).Select(i =>
        {
            var ids = new int[64];
            Array.Fill(ids, i + 1, 0, random.Next(1, 60));
            return ids;
        }).ToList();
        (long Positions, List<int> Texts) Epoch(bool bucketing)
        {
            var source = new SequenceBatchSource(rows, 64, 0, bucketing);
            long positions = 0;
            var texts = new List<int>();
            foreach (var batch in source.Batches(32, new Random(1), CancellationToken.None))
            {
                using (batch)
                {
                    positions += batch.Labels.shape[0] * batch.Labels.shape[1];
                    texts.AddRange(batch.Labels.select(1, 0).data<long>().ToArray().Select(v => (int)v));
                }
            }
            return (positions, texts);
        }

        var uniform = Epoch(bucketing: false);
        var bucketed = Epoch(bucketing: true);
        Assert.Equal(Enumerable.Range(1, rows.Count), bucketed.Texts.Order());
        Assert.True(bucketed.Positions < 0.7 * uniform.Positions, $"bucketed {bucketed.Positions:N0} positions vs uniform {uniform.Positions:N0}");
    }
}

using System;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text.Generation;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text.Tests.Generation;

/// <summary>
/// Generation with a key/value cache (issue 15): each cached step must compute what the full causal pass computes at that
/// position, for rows of different lengths in one batch, with learned and sinusoidal positions and several blocks and
/// heads; and the generated text must be the same with and without the cache.
/// </summary>
[Collection(FortunesCollection.Name)]
public class KeyValueCacheTests(FortunesModel fortunes)
{
    private const int Vocabulary = 37;
    private const int Padding = 0;
    private const int Context = 16;

    [Theory]
    [InlineData(true, 1, 1)]
    [InlineData(false, 3, 4)]
    public void CachedSteps_EqualTheFullPassAtEveryPosition_ForRowsOfDifferentLengths(bool learnedPositions, int layers, int heads)
    {
        var network = Network.Create()
            .Transformer(Vocabulary, dimensions: 24, maxLength: Context, paddingId: Padding, layers: layers, heads: heads, dropout: 0.1, causal: true, learnedPositions: learnedPositions)
            .Dense(Vocabulary);
        using var model = NetworkModel.Build(network, [Context], seed: 5, CPU);
        using var decoder = IncrementalDecoder.TryCreate(model.Module, Context);
        Assert.NotNull(decoder);
        var random = new Random(11);
        // Three rows: a start position (padding id) then 4, 0 and 9 real tokens; later tokens are appended one per step.
        var rows = new[] { 4, 0, 9 }.Select(n => Enumerable.Range(0, n).Select(_ => random.Next(1, Vocabulary)).ToList()).ToArray();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var width = 1 + rows.Max(r => r.Count);
        var start = decoder.Start(Ids(rows, width));
        for (var step = 0; step < 5; step++)
        {
            var tokens = rows.Select(_ => (long)random.Next(1, Vocabulary)).ToArray();
            for (var r = 0; r < rows.Length; r++)
                rows[r].Add((int)tokens[r]);
            var positions = rows.Select(r => (long)r.Count).ToArray();
            var cached = decoder.Next(tokens, positions);
            var full = model.Module.forward(Ids(rows, Context));
            for (var r = 0; r < rows.Length; r++)
            {
                var expected = full[r, positions[r]];
                var difference = cached[r].sub(expected).abs().max().item<float>();
                Assert.True(difference < 1e-5, $"step {step}, row {r} (position {positions[r]}): cached logits differ from the full pass by {difference}");
            }
        }
        Assert.Equal(3, start.shape[0]);
    }

    [Fact]
    public void DroppingFinishedRows_KeepsTheOthersCachesAligned()
    {
        var network = Network.Create()
            .Transformer(Vocabulary, dimensions: 16, maxLength: Context, paddingId: Padding, layers: 2, heads: 2, causal: true)
            .Dense(Vocabulary);
        using var model = NetworkModel.Build(network, [Context], seed: 9, CPU);
        using var decoder = IncrementalDecoder.TryCreate(model.Module, Context)!;
        var rows = new[] { new[] { 3, 4, 5 }.ToList(), new[] { 6 }.ToList(), new[] { 7, 8 }.ToList() };
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        decoder.Start(Ids(rows, 4));
        decoder.KeepRows([2, 0]);
        var kept = new[] { rows[2], rows[0] };
        kept[0].Add(9);
        kept[1].Add(10);
        var cached = decoder.Next([9, 10], [3, 4]);
        var full = model.Module.forward(Ids(kept, Context));
        Assert.True(cached[0].sub(full[0, 3]).abs().max().item<float>() < 1e-5);
        Assert.True(cached[1].sub(full[1, 4]).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void NetworksThatCannotBeCached_AreLeftToFullPasses()
    {
        using var bidirectional = NetworkModel.Build(Network.Create().Transformer(Vocabulary, 16, Context, Padding, 1, 2).Dense(Vocabulary), [Context], 1, CPU);
        Assert.Null(IncrementalDecoder.TryCreate(bidirectional.Module, Context));
        using var pooled = NetworkModel.Build(Network.Create().Transformer(Vocabulary, 16, Context, Padding, 1, 2, causal: true, pooling: SequencePooling.Mean).Dense(3), [Context], 1, CPU);
        Assert.Null(IncrementalDecoder.TryCreate(pooled.Module, Context));
    }

    [Fact]
    public void TrainedModel_GeneratesTheSameText_WithAndWithoutTheCache_IncludingSlidingContexts()
    {
        using (var decoder = IncrementalDecoder.TryCreate(fortunes.Model.Model.Module, fortunes.Model.MaxLength))
            Assert.NotNull(decoder);
        // 40 new tokens on a 24-token context: prompts fill the window and slide, where the cache falls back to full passes.
        var prompts = Fortunes.Training.Take(40).Select(t => string.Join(' ', t.Split(' ').Take(1 + t.Length % 6)))
            .Concat(["", "the", string.Join(' ', Enumerable.Repeat("the computer is", 12))]).ToArray();
        foreach (var options in new[]
                 {
                     new GenerationOptions { Temperature = 0, MaxNewTokens = 40 },
                     new GenerationOptions { Temperature = 0.9, TopK = 20, Seed = 4, MaxNewTokens = 40 },
                 })
        {
            var cached = fortunes.Model.Generate(prompts, options);
            options.UseKeyValueCache = false;
            var uncached = fortunes.Model.Generate(prompts, options);
            Assert.Equal(uncached, cached);
            Assert.Contains(cached, text => text.Split(' ').Length > FortunesModel.MaxLength / 2);
        }
    }

    private static Tensor Ids(System.Collections.Generic.IList<System.Collections.Generic.List<int>> rows, int width)
    {
        var ids = new long[rows.Count * width];
        for (var r = 0; r < rows.Count; r++)
            for (var i = 0; i < rows[r].Count; i++)
                ids[r * width + 1 + i] = rows[r][i];
        return torch.tensor(ids, new long[] { rows.Count, width });
    }
}

public class TopKSelectionTests
{
    [Fact]
    public void KthLargest_EqualsTheValueADescendingSortPutsThere_WithTiesAndInfinities()
    {
        var random = new Random(3);
        for (var trial = 0; trial < 300; trial++)
        {
            var n = random.Next(1, 200);
            // Few distinct values make ties; −∞ stands for masked tokens.
            var values = Enumerable.Range(0, n).Select(_ => random.Next(6) == 0 ? float.NegativeInfinity : random.Next(-5, 6) * 0.5f).ToArray();
            var k = random.Next(1, n + 1);
            var expected = values.OrderByDescending(v => v).ElementAt(k - 1);
            Assert.Equal(expected, LanguageModelTransformer.KthLargest(values.ToArray(), k));
        }
    }
}

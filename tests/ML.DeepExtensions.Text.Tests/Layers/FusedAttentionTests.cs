using System;
using System.Diagnostics;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text.Tests.Layers;

/// <summary>
/// Attention without dropout runs through libtorch's fused scaled_dot_product_attention (issue 15). It must give what the
/// step-by-step softmax(QKᵀ/√d + mask)·V gives, with the masks that matter: padding keys, causal order, BERT's additive
/// key mask, rows that are all padding.
/// </summary>
[Collection(FusedAttentionCollection.Name)]
public class FusedAttentionTests(ITestOutputHelper output)
{
    private const int Vocabulary = 50;
    private const int Length = 24;

    public static TheoryData<string> Networks => new() { "causal", "bidirectional", "bert" };

    [Theory]
    [MemberData(nameof(Networks))]
    public void FusedAttention_EqualsStepByStepAttention_WithPaddingAndCausalMasks(string kind)
    {
        var network = kind switch
        {
            "bert" => Network.Create().Add(new BertEncoderLayer(Vocabulary, dimensions: 32, layers: 2, heads: 4, maxPositions: Length)).Dense(3),
            _ => Network.Create().Transformer(Vocabulary, dimensions: 32, maxLength: Length, paddingId: 0, layers: 2, heads: 4, causal: kind == "causal").Dense(3),
        };
        using var model = NetworkModel.Build(network, [Length], seed: 3, CPU);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        // Rows of lengths 24, 10, 1 and 0 (all padding), right-padded with id 0.
        var ids = torch.randint(1, Vocabulary, [4, Length], generator: new Generator(5)).to_type(ScalarType.Float32);
        foreach (var (row, length) in new[] { (1, 10), (2, 1), (3, 0) })
            ids[row, TensorIndex.Slice(length)] = torch.tensor(0f);
        var previous = SelfAttentionModule.Fused;
        try
        {
            SelfAttentionModule.Fused = false;
            var stepByStep = model.Module.forward(ids);
            SelfAttentionModule.Fused = true;
            var fused = model.Module.forward(ids);
            var difference = fused.sub(stepByStep).abs().max().item<float>();
            output.WriteLine($"{kind}: max |fused − step by step| = {difference:G3}");
            Assert.False(fused.isnan().any().item<bool>(), "fused attention produced NaN");
            Assert.True(difference < 1e-5, $"{kind}: fused attention differs by {difference}");

            // Timing for the record (not asserted): 50 scoring passes of a 32-row batch each way.
            var batch = ids.repeat(8, 1);
            foreach (var mode in new[] { false, true, false, true })
            {
                SelfAttentionModule.Fused = mode;
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < 50; i++)
                    using (torch.NewDisposeScope())
                        model.Module.forward(batch);
                output.WriteLine($"{kind} {(mode ? "fused" : "step by step")}: {clock.Elapsed.TotalMilliseconds / 50:F2} ms per batch");
            }
        }
        finally
        {
            SelfAttentionModule.Fused = previous;
        }
    }

    [Fact]
    public void FusedAttention_InAMixedPrecisionStep_RunsInFloat32()
    {
        // On the CPU libtorch's bfloat16 attention kernel measured 2.5× slower than float32, so inside a training step's
        // autocast region the attention itself runs in float32 and gives exactly what it gives outside the region.
        using var scope = torch.NewDisposeScope();
        var generator = new Generator(11);
        var (q, k, v) = (torch.randn([2, 4, 16, 8], generator: generator), torch.randn([2, 4, 16, 8], generator: generator), torch.randn([2, 4, 16, 8], generator: generator));
        var mask = torch.ones(2, 1, 16, 16, dtype: ScalarType.Bool).tril();
        var float32 = SelfAttentionModule.FusedAttention(q, k, v, mask);
        Tensor inRegion;
        using (ML.DeepExtensions.Runtime.Autocast.Enter(ML.DeepExtensions.Training.TrainingPrecision.MixedBFloat16, CPU))
        {
            inRegion = SelfAttentionModule.FusedAttention(q.to(ScalarType.BFloat16), k.to(ScalarType.BFloat16), v.to(ScalarType.BFloat16), mask);
            Assert.Equal(ScalarType.BFloat16, nn.functional.scaled_dot_product_attention(q, k, v, mask).dtype); // autocast is live here
        }
        Assert.Equal(ScalarType.Float32, inRegion.dtype);
        var rounded = SelfAttentionModule.FusedAttention(q.to(ScalarType.BFloat16).to(ScalarType.Float32), k.to(ScalarType.BFloat16).to(ScalarType.Float32),
            v.to(ScalarType.BFloat16).to(ScalarType.Float32), mask);
        Assert.Equal(0f, inRegion.sub(rounded).abs().max().item<float>());
        Assert.True(float32.sub(inRegion).abs().max().item<float>() < 5e-2);
    }
}

/// <summary>The fused switch is process-wide: these tests run alone, never beside other text tests that use attention.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FusedAttentionCollection
{
    public const string Name = "Fused attention switch";
}

using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.TestSupport;
using ML.DeepExtensions.Text.Generation;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Persistence;

/// <summary>
/// Text zips saved by the code of model format v1 (tests/fixtures/model-format-v1, see its README) must keep loading with
/// a plain <c>mlContext.Model.Load</c> and give the recorded token ids, scores and generated text bit for bit: the neural
/// text trainers (Transformer, LSTM, GRU encoders), DSL networks on token ids, and the language model.
/// Bit for bit with the attention arithmetic those outputs were recorded with (step by step); attention now runs through
/// libtorch's fused kernel by default (issue 15), which must stay within <see cref="FusedTolerance"/> of them. The switch is
/// process-wide, so this class runs in the non-parallel collection of <see cref="Layers.FusedAttentionTests"/>.
/// </summary>
[Trait("Category", "Persistence")]
[Collection(Layers.FusedAttentionCollection.Name)]
public sealed class LegacyModelFormatTests
{
    private const float FusedTolerance = 1e-5f;

    /// <summary>Runs <paramref name="check"/> with the step-by-step attention (bit for bit), then with the fused default (within tolerance).</summary>
    private static void BothAttentionPaths(System.Action<float> check)
    {
        try
        {
            SelfAttentionModule.Fused = false;
            check(0);
        }
        finally
        {
            SelfAttentionModule.Fused = true;
        }
        check(FusedTolerance);
    }

    private static readonly string[] Tested =
        ["dsl-recurrent", "dsl-transformer", "language-model", "text-gru-regression", "text-lstm", "text-transformer"];

    [Theory]
    [InlineData("text-transformer")]
    [InlineData("text-lstm")]
    [InlineData("text-gru-regression")]
    [InlineData("dsl-transformer")]
    [InlineData("dsl-recurrent")]
    [InlineData("language-model")]
    public void ModelSavedByFormatV1_LoadsAndScoresBitIdentically(string fixture)
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(ModelFormatFixtures.Zip(fixture), out var inputSchema);
        ModelFormatFixtures.AssertLoadedType(fixture, model);
        Assert.NotNull(inputSchema.GetColumnOrNull("Text"));
        BothAttentionPaths(tolerance => ModelFormatFixtures.AssertOutputs(fixture, model.Transform(ModelFormatFixtures.Inputs(mlContext, fixture)), tolerance));
    }

    [Fact]
    public void LanguageModelSavedByFormatV1_GivesTheSameGreedyTextAndNextTokenLogProbabilities()
    {
        const string fixture = "language-model";
        var expected = ModelFormatFixtures.Fixture(fixture);
        var chain = Assert.IsType<TransformerChain<ITransformer>>(new MLContext().Model.Load(ModelFormatFixtures.Zip(fixture), out _));
        var model = Assert.IsType<LanguageModelTransformer>(chain.LastTransformer);

        BothAttentionPaths(tolerance =>
        {
            var greedy = expected.GetProperty("greedyGeneration");
            var options = new GenerationOptions { MaxNewTokens = greedy.GetProperty("maxNewTokens").GetInt32(), Temperature = 0 };
            Assert.Equal(ModelFormatFixtures.Strings(greedy.GetProperty("continuations")),
                model.Generate(ModelFormatFixtures.Strings(greedy.GetProperty("prompts")), options).ToArray());

            var logProbabilities = expected.GetProperty("nextTokenLogProbabilities");
            var prompts = ModelFormatFixtures.Strings(logProbabilities.GetProperty("prompts"));
            var values = logProbabilities.GetProperty("values").EnumerateArray().ToArray();
            for (var i = 0; i < prompts.Length; i++)
            {
                ModelFormatFixtures.AssertBits($"{fixture}, log-probabilities after '{prompts[i]}'",
                    values[i].EnumerateArray().Select(ModelFormatFixtures.Single).ToArray(), model.NextTokenLogProbabilities(prompts[i]), tolerance);
            }
        });
    }

    [Fact]
    public void EveryTextFixture_IsCheckedByThisClass()
        => Assert.Equal(Tested, ModelFormatFixtures.NamesFor("ML.DeepExtensions.Text.Tests"));
}

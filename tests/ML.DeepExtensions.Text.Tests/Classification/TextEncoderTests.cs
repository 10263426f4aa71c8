using System;
using System.Collections.Generic;
using System.Linq;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text.Classification;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text.Tests.Classification;

/// <summary>Each text encoder on tiny id batches: shapes, forward + backward reaching every parameter, padding invariance, id checks.</summary>
public sealed class TextEncoderTests
{
    private const int Vocabulary = 30;
    private const int Padding = 0;
    private const int Length = 12;

    public static TheoryData<string> Encoders => new() { "Lstm", "BiLstm", "BiLstmMax", "Gru", "BiGru", "GruMean", "TransformerCls", "TransformerMean" };

    private static TextEncoder Encoder(string name) => name switch
    {
        "Lstm" => TextEncoder.Lstm(hiddenSize: 8, bidirectional: false),
        "BiLstm" => TextEncoder.Lstm(hiddenSize: 8, layers: 2),
        "BiLstmMax" => TextEncoder.Lstm(hiddenSize: 8, pooling: TextPooling.Max),
        "LstmMean" => TextEncoder.Lstm(hiddenSize: 8, layers: 2, bidirectional: false, pooling: TextPooling.Mean),
        "Gru" => TextEncoder.Gru(hiddenSize: 8, bidirectional: false),
        "GruMean" => TextEncoder.Gru(hiddenSize: 8, bidirectional: false, pooling: TextPooling.Mean),
        "BiGru" => TextEncoder.Gru(hiddenSize: 8),
        "TransformerCls" => TextEncoder.Transformer(layers: 2, heads: 2, feedForward: 16, pooling: TextPooling.ClassToken),
        _ => TextEncoder.Transformer(layers: 1, heads: 2, feedForward: 16, pooling: TextPooling.Mean),
    };

    private static NetworkModel Build(string name, double dropout = 0)
    {
        var encoder = Encoder(name);
        var architecture = encoder.Kind == TextEncoderKind.Transformer ? TextArchitectures.TransformerEncoder : TextArchitectures.RecurrentEncoder;
        var network = Network.Create().Architecture(architecture, encoder.Parameters(Vocabulary, 8, Padding, Length, dropout, classTokenId: null)).Dense(3);
        return NetworkModel.Build(network, [Length], seed: 3, CPU);
    }

    /// <summary>Right-padded rows of ids (1 … Vocabulary−1), as the tokenizers write them, as floats.</summary>
    private static float[] Rows(params int[][] rows)
    {
        var values = new float[rows.Length * Length];
        for (var r = 0; r < rows.Length; r++)
            for (var i = 0; i < rows[r].Length; i++)
                values[r * Length + i] = rows[r][i];
        return values;
    }

    private static readonly int[] Short = [5, 9, 2];
    private static readonly int[] Long = [4, 4, 7, 19, 3, 22, 8, 1, 13, 29, 6];
    private static readonly int[] Full = Enumerable.Range(0, Length).Select(i => 1 + (i * 7) % (Vocabulary - 1)).ToArray();

    [Theory]
    [MemberData(nameof(Encoders))]
    public void Encoder_ForwardAndBackward_ReachEveryParameter(string name)
    {
        using var model = Build(name, dropout: 0.1);
        var module = model.Module;
        module.train();
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(Rows(Short, Long, Full), [3, Length]);
        var y = module.forward(x);
        Assert.Equal(new long[] { 3, 3 }, y.shape);
        var loss = nn.functional.cross_entropy(y, torch.tensor(new long[] { 0, 1, 2 }));
        loss.backward();
        var parameters = module.named_parameters().ToList();
        Assert.NotEmpty(parameters);
        foreach (var (parameterName, parameter) in parameters)
        {
            Assert.True(parameter.grad is not null, $"{name}: {parameterName} received no gradient");
            Assert.True(parameter.grad!.abs().sum().item<float>() > 0, $"{name}: {parameterName} has an all-zero gradient");
        }
        module.eval();
    }

    [Theory]
    [MemberData(nameof(Encoders))]
    public void Encoder_ScoresARowTheSameAloneAndBatchedWithLongerRows(string name)
    {
        using var model = Build(name);
        var alone = model.Forward(Rows(Short), 1);
        var batched = model.Forward(Rows(Long, Short, Full), 3);
        for (var i = 0; i < 3; i++)
            Assert.Equal(alone[i], batched[3 + i], 5);
        // Different neighbours, same answer.
        var otherBatch = model.Forward(Rows(Full, Full, Short, Long), 4);
        for (var i = 0; i < 3; i++)
            Assert.Equal(alone[i], otherBatch[6 + i], 5);
    }

    [Theory]
    [InlineData("Lstm")]
    [InlineData("BiLstm")]
    [InlineData("BiLstmMax")]
    [InlineData("LstmMean")]
    public void LstmEncoder_UnrolledTrainingPass_MatchesThePackedModule(string name)
    {
        // Training on the CPU runs UnrolledLstm (forced here: dense batches are unrolled only where oneDNN's LSTM is the
        // slower one); eval mode with gradients on runs nn.LSTM (packed when rows differ in length).
        // Same weights, dropout 0: outputs and every parameter's gradient must agree, for a mixed batch (padding, packed
        // reference) and a batch of full rows (dense reference).
        using var unrolledOnEveryCpu = UnrolledLstm.Force(true);
        foreach (var rows in new[] { Rows(Short, Long, Full, [3]), Rows(Full, Full) })
        {
            using var model = Build(name);
            var module = model.Module;
            var count = rows.Length / Length;
            (float[] Output, Dictionary<string, float[]> Gradients) Pass(bool training)
            {
                using var scope = torch.NewDisposeScope();
                if (training) module.train(); else module.eval();
                module.zero_grad();
                var x = torch.tensor(rows, [count, Length]);
                var lstm = module.modules().OfType<TorchSharp.Modules.LSTM>().Single();
                Assert.Equal(training, UnrolledLstm.Applies(lstm, torch.zeros(1, 1, 1)));
                var y = module.forward(x);
                y.pow(2).sum().backward();
                var gradients = module.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.data<float>().ToArray());
                module.eval();
                return (y.data<float>().ToArray(), gradients);
            }
            var unrolled = Pass(training: true);
            var reference = Pass(training: false);
            AssertClose(reference.Output, unrolled.Output, 1e-5, $"{name}, {count} rows: output");
            foreach (var (parameter, gradient) in reference.Gradients)
                AssertClose(gradient, unrolled.Gradients[parameter], 1e-4, $"{name}, {count} rows: gradient of {parameter}");
        }
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a) / Math.Max(1, Math.Abs(e))).Max();
        Assert.True(worst <= tolerance, $"{what}: largest difference {worst:G3} > {tolerance:G3}");
        Assert.Contains(expected, v => v != 0); // a comparison of zeros would prove nothing
    }

    [Theory]
    [MemberData(nameof(Encoders))]
    public void Encoder_PaddingIsNotReadAsTokens(string name)
    {
        // A row of 3 tokens differs from the same 3 tokens followed by real tokens that are padding ids elsewhere:
        // proves the encoder sees the difference between padding and content (the invariance above is not trivial).
        using var model = Build(name);
        var shortRow = model.Forward(Rows(Short), 1);
        var longer = model.Forward(Rows([.. Short, 7, 7, 7]), 1);
        Assert.True(shortRow.Zip(longer).Any(p => Math.Abs(p.First - p.Second) > 1e-4), $"{name}: extra tokens changed nothing");
    }

    [Theory]
    [InlineData("BiLstm")]
    [InlineData("TransformerMean")]
    public void Encoder_IdOutsideTheVocabulary_ThrowsNamingTheRange(string name)
    {
        using var model = Build(name);
        var bad = Rows(Short);
        bad[1] = Vocabulary + 5;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(bad, 1));
        Assert.Contains($"[0, {Vocabulary})", error.Message);
        Assert.Contains($"{Vocabulary + 5}", error.Message);
    }

    [Fact]
    public void RecurrentEncoder_EmptyRow_IsReadAsOnePaddingToken()
    {
        using var model = Build("BiLstm");
        var empty = model.Forward(new float[Length], 1);
        var onePadding = model.Forward(new float[Length], 1);
        Assert.All(empty, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(empty, onePadding);
    }

    [Fact]
    public void EncoderNetworks_RoundTripThroughJson_AsNamedArchitectures()
    {
        foreach (var name in new[] { "BiLstm", "TransformerCls" })
        {
            using var model = Build(name);
            var json = model.Network.ToJson();
            Assert.Contains("ML.DeepExtensions.Text", json);
            var back = Network.FromJson(json);
            Assert.Equal(model.Network.Summary(Length), back.Summary(Length));
        }
    }

    /// <summary>
    /// The networks the neural text trainers store (<see cref="TextEncoder"/> parameters as the trainer passes them:
    /// vocabulary 100, 32 dimensions, padding 0, max length 40, dropout 0.25), captured from the code before typed
    /// parameters (commit db71e88): byte for byte the same JSON.
    /// </summary>
    public static TheoryData<string, string> StoredEncodersBeforeTypedParameters => new()
    {
        { "Lstm()", """{"layers":[{"type":"Architecture","name":"TextRecurrentEncoder","parameters":{"vocabularySize":"100","dimensions":"32","paddingId":"0","layers":"1","dropout":"0.25","kind":"Lstm","hiddenSize":"64","bidirectional":"1","pooling":"LastState"},"assembly":"ML.DeepExtensions.Text"}]}""" },
        { "Gru(8, 2, false, Mean)", """{"layers":[{"type":"Architecture","name":"TextRecurrentEncoder","parameters":{"vocabularySize":"100","dimensions":"32","paddingId":"0","layers":"2","dropout":"0.25","kind":"Gru","hiddenSize":"8","bidirectional":"0","pooling":"Mean"},"assembly":"ML.DeepExtensions.Text"}]}""" },
        { "Transformer()", """{"layers":[{"type":"Architecture","name":"TextTransformerEncoder","parameters":{"vocabularySize":"100","dimensions":"32","paddingId":"0","layers":"2","dropout":"0.25","maxLength":"40","heads":"4","feedForward":"128","pooling":"ClassToken","classTokenId":"-1"},"assembly":"ML.DeepExtensions.Text"}]}""" },
        { "Transformer(3, 2, 16, Mean) with [CLS] 5", """{"layers":[{"type":"Architecture","name":"TextTransformerEncoder","parameters":{"vocabularySize":"100","dimensions":"32","paddingId":"0","layers":"3","dropout":"0.25","maxLength":"40","heads":"2","feedForward":"16","pooling":"Mean","classTokenId":"5"},"assembly":"ML.DeepExtensions.Text"}]}""" },
    };

    [Theory]
    [MemberData(nameof(StoredEncodersBeforeTypedParameters))]
    public void StoredEncoderNetwork_IsByteIdenticalToBeforeTypedParameters(string call, string json)
    {
        var (encoder, classTokenId) = call switch
        {
            "Lstm()" => (TextEncoder.Lstm(), (int?)null),
            "Gru(8, 2, false, Mean)" => (TextEncoder.Gru(8, 2, false, TextPooling.Mean), null),
            "Transformer()" => (TextEncoder.Transformer(), null),
            _ => (TextEncoder.Transformer(3, 2, 16, TextPooling.Mean), 5),
        };
        var name = encoder.Kind == TextEncoderKind.Transformer ? TextArchitectures.TransformerEncoder : TextArchitectures.RecurrentEncoder;
        Assert.Equal(json, Network.Create().Architecture(name, encoder.Parameters(100, 32, 0, 40, 0.25, classTokenId)).ToJson());
    }

    [Theory]
    [InlineData(TextArchitectures.RecurrentEncoder)]
    [InlineData(TextArchitectures.TransformerEncoder)]
    public void EncoderParameters_RoundTripThroughTheStoredStrings(string name)
    {
        Assert.NotNull(TextEncoder.Lstm()); // the encoders register from this package's module initializer, run on first use
        ML.DeepExtensions.TestSupport.ArchitectureParameterRoundTrip.Check(ArchitectureRegistry.ParametersTypeOf(name)!);
        Assert.Equal(new TextTransformerEncoderParameters().Heads, TextEncoder.Transformer().Heads);
        Assert.Equal(new TextRecurrentEncoderParameters().HiddenSize, TextEncoder.Gru().HiddenSize);
        Assert.Equal(new TextRecurrentEncoderParameters().Bidirectional, TextEncoder.Lstm().Bidirectional);
    }

    [Fact]
    public void EncoderNetwork_UnknownParameter_ThrowsListingTheValidOnes()
    {
        var parameters = new Dictionary<string, string>(TextEncoder.Lstm(hiddenSize: 8).Parameters(Vocabulary, 8, Padding, Length, 0, null)) { ["heads"] = "2" };
        var ex = Assert.Throws<ArgumentException>(() => Network.Create().Architecture(TextArchitectures.RecurrentEncoder, parameters).OutputShape(Length));
        Assert.Equal("heads", ex.ParamName);
        Assert.Contains($"Architecture '{TextArchitectures.RecurrentEncoder}' has no parameter 'heads'.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Valid parameters: vocabularySize, dimensions, paddingId, layers, dropout, kind, hiddenSize, bidirectional, pooling.", ex.Message, StringComparison.Ordinal);
    }
}

using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Pretrained;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Text.Pretrained;
using ML.DeepExtensions.Text.Tests.Classification;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Text.Tests.Pretrained;

/// <summary>The public entries of the pretrained BERT encoder: sentence embeddings, fine-tuning, and bad input.</summary>
public sealed class PretrainedBertTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mlde-bert-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static float[][] Embed(MLContext mlContext, PretrainedBert bert, params string[] texts)
    {
        var data = TestData.Texts(mlContext, texts);
        return mlContext.Transforms.Text.EmbedSentences(bert, maxLength: 64).Fit(data).Transform(data).GetColumn<float[]>("Features").ToArray();
    }

    private static double Cosine(float[] a, float[] b) => a.Zip(b).Sum(p => (double)p.First * p.Second);

    [Fact]
    public void EmbedSentences_GivesUnitVectors_WhereParaphrasesAreCloserThanUnrelatedTexts()
    {
        var mlContext = new MLContext(seed: 1);
        var e = Embed(mlContext, MiniLMData.MiniLM,
            "A cat is sitting on the mat.", "The kitten sat on a rug.", "Stock markets fell sharply on Monday.", "Shares dropped steeply at the start of the week.");
        Assert.All(e, v => Assert.Equal(384, v.Length));
        Assert.All(e, v => Assert.InRange(Math.Sqrt(v.Sum(x => (double)x * x)), 0.9999, 1.0001));
        output.WriteLine($"cat/kitten {Cosine(e[0], e[1]):F3}, markets/shares {Cosine(e[2], e[3]):F3}, cat/markets {Cosine(e[0], e[2]):F3}, kitten/shares {Cosine(e[1], e[3]):F3}");
        Assert.True(Cosine(e[0], e[1]) > Cosine(e[0], e[2]) + 0.2);
        Assert.True(Cosine(e[2], e[3]) > Cosine(e[1], e[3]) + 0.2);
    }

    [Fact]
    public void FromOnnx_LocalFiles_GiveTheSameEmbeddingsAsThePackageResource()
    {
        var (onnx, vocabulary) = MiniLMData.Files;
        var local = PretrainedBert.FromOnnx(onnx, vocabulary);
        var mlContext = new MLContext(seed: 1);
        var texts = MiniLMData.Texts.Take(5).ToArray();
        Assert.Equal(Embed(mlContext, MiniLMData.MiniLM, texts), Embed(mlContext, local, texts));
        Assert.Equal(onnx, local.Source);
    }

    [Fact]
    public void MissingVocabularyFile_ThrowsNamingTheFile()
    {
        var (onnx, _) = MiniLMData.Files;
        var missing = Path.Combine(_directory, "no-vocab.txt");
        var ex = Assert.Throws<FileNotFoundException>(() => PretrainedBert.FromOnnx(onnx, missing));
        Assert.Contains(missing, ex.Message);
        Assert.Contains("vocabularyPath", ex.Message);
    }

    [Fact]
    public void VocabularyOfAnotherModel_ThrowsNamingBothSizes()
    {
        var (onnx, vocabulary) = MiniLMData.Files;
        var shorter = Path.Combine(_directory, "vocab.txt");
        File.WriteAllLines(shorter, File.ReadAllLines(vocabulary).Take(1000));
        var ex = Assert.Throws<InvalidDataException>(() => PretrainedBert.FromOnnx(onnx, shorter));
        Assert.Contains(shorter, ex.Message);
        Assert.Contains("1000 tokens", ex.Message);
        Assert.Contains("30522 rows", ex.Message);
    }

    [Fact]
    public void WrongOnnxFile_ThrowsNamingTheFile()
    {
        var (_, vocabulary) = MiniLMData.Files;
        // Not ONNX at all: the vocabulary itself.
        var notOnnx = Path.Combine(_directory, "model.onnx");
        File.Copy(vocabulary, notOnnx);
        var ex = Assert.Throws<PretrainedWeightsException>(() => PretrainedBert.FromOnnx(notOnnx, vocabulary));
        Assert.Contains(notOnnx, ex.Message);
        output.WriteLine(ex.Message);

        // A real ONNX model that is not a BERT encoder: ML.NET's ResNet-18 featurizer is not referenced here, so write a tiny valid graph.
        var other = Path.Combine(_directory, "other.onnx");
        File.WriteAllBytes(other, TinyOnnxModel());
        var structure = Assert.Throws<PretrainedWeightsException>(() => PretrainedBert.FromOnnx(other, vocabulary));
        Assert.Contains(other, structure.Message);
        Assert.Contains("embeddings.word_embeddings.weight", structure.Message);
        output.WriteLine(structure.Message);
    }

    [Fact]
    public void MaxLengthAbove512_ThrowsNamingTheLimit()
    {
        var mlContext = new MLContext(seed: 1);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.BinaryClassification.Trainers.NeuralTextClassifier(
            new NeuralTextBinaryOptions { Network = TextEncoder.PretrainedBert(MiniLMData.MiniLM), MaxLength = 600 }));
        Assert.Contains("MaxLength", ex.Message);
        Assert.Contains("512", ex.Message);
        var embed = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Transforms.Text.EmbedSentences(MiniLMData.MiniLM, maxLength: 1000));
        Assert.Contains("512", embed.Message);
    }

    [Fact]
    public void TextLongerThan512Pieces_KeepsItsFirstPieces()
    {
        var mlContext = new MLContext(seed: 1);
        var longText = string.Join(" ", Enumerable.Repeat("computers are wonderful machines", 300));
        var data = TestData.Texts(mlContext, [longText]);
        var ids = TestData.Ids(MiniLMData.MiniLM.CreateTokenizer(mlContext, "Text", "Ids", 512).Fit(data).Transform(data), "Ids")[0];
        Assert.Equal(512, ids.Length);
        Assert.Equal(101, ids[0]);
        Assert.Equal(102, ids[^1]);
        Assert.DoesNotContain(MiniLMData.MiniLM.PaddingId, ids);
        // and the encoder scores it (512 positions, no index error)
        var e = Embed(mlContext, MiniLMData.MiniLM, longText);
        Assert.Equal(384, e[0].Length);
    }

    [Fact]
    public void TokenizerOfAnotherVocabulary_IsRejectedAtFit()
    {
        var mlContext = new MLContext(seed: 1);
        var data = TextData.Load(mlContext, TextData.Emails.Take(20));
        var trainer = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(new NeuralTextBinaryOptions
        {
            Network = TextEncoder.PretrainedBert(MiniLMData.MiniLM),
            Tokenizer = mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Ids", "Text"),
            Epochs = 1,
        });
        var ex = Assert.Throws<ArgumentException>(() => trainer.Fit(data));
        Assert.Contains("30522", ex.Message);
        Assert.Contains("Tokenizer", ex.Message);
    }

    [Fact]
    public void EmbedSentences_MissingOrNonTextColumn_ThrowsNamingTheColumn()
    {
        var mlContext = new MLContext(seed: 1);
        var data = TextData.Load(mlContext, TextData.Emails.Take(3));
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Transforms.Text.EmbedSentences(MiniLMData.MiniLM, inputColumnName: "Body").Fit(data));
        Assert.Contains("'Body'", missing.Message);
        var wrong = Assert.ThrowsAny<ArgumentException>(() => mlContext.Transforms.Text.EmbedSentences(MiniLMData.MiniLM, inputColumnName: "Label").Fit(data));
        Assert.Contains("'Label'", wrong.Message);
        Assert.Contains("String", wrong.Message);
    }

    [Fact]
    public void FineTunedMiniLM_SavesAndLoadsWithoutTheOnnxFile()
    {
        var (onnx, vocabulary) = MiniLMData.Files;
        var copyDir = Path.Combine(_directory, "model");
        Directory.CreateDirectory(copyDir);
        var onnxCopy = Path.Combine(copyDir, "model.onnx");
        File.Copy(onnx, onnxCopy);
        var mlContext = new MLContext(seed: 3);
        var emails = TextData.Emails.Take(48).ToArray();
        var data = TextData.Load(mlContext, emails);
        var model = mlContext.BinaryClassification.Trainers.NeuralTextClassifier(new NeuralTextBinaryOptions
        {
            Network = TextEncoder.PretrainedBert(onnxCopy, vocabulary),
            MaxLength = 32,
            Epochs = 1,
            LearningRate = 5e-5,
        }).Fit(data);
        var expected = model.Transform(data).GetColumn<float>("Score").ToArray();
        var zip = Path.Combine(_directory, "bert.zip");
        mlContext.Model.Save(model, data.Schema, zip);
        File.Delete(onnxCopy); // the zip must not need it
        var loaded = new MLContext(seed: 4).Model.Load(zip, out _);
        Assert.Equal(expected, loaded.Transform(data).GetColumn<float>("Score").ToArray());
        output.WriteLine($"zip {new FileInfo(zip).Length / 1e6:F1} MB");
    }

    /// <summary>A valid ONNX model with one Identity node and no initializers (hand-encoded protobuf).</summary>
    private static byte[] TinyOnnxModel()
    {
        static byte[] Field(int number, byte[] payload) => [(byte)(number << 3 | 2), .. Varint(payload.Length), .. payload];
        static byte[] Text(int number, string value) => Field(number, System.Text.Encoding.UTF8.GetBytes(value));
        static byte[] Varint(int value)
        {
            var bytes = new System.Collections.Generic.List<byte>();
            do
            {
                var b = (byte)(value & 0x7F);
                value >>= 7;
                bytes.Add(value > 0 ? (byte)(b | 0x80) : b);
            } while (value > 0);
            return [.. bytes];
        }
        byte[] node = [.. Text(1, "x"), .. Text(2, "y"), .. Text(4, "Identity")];
        byte[] graph = [.. Field(1, node), .. Text(2, "g")];
        return [0x08, 0x07, .. Field(7, graph)];
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.TestSupport;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Tokenization;

/// <summary>Every tokenizer saves into an ML.NET zip and loads back, in this process and in a fresh one, without its original files.</summary>
public sealed class PersistenceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mldx-tokenizer-").FullName;

    public static TheoryData<TokenizerKind> Kinds => new(Enum.GetValues<TokenizerKind>());

    [Theory]
    [MemberData(nameof(Kinds))]
    public void SavedTokenizer_LoadsInFreshProcessWithoutItsFiles_GivingIdenticalIds(TokenizerKind kind)
    {
        var mlContext = new MLContext();
        var data = TestData.Texts(mlContext, TestData.Sentences);
        var (transformer, files) = Fit(mlContext, kind, data);
        var expected = TestData.Ids(transformer.Transform(data), "Ids");
        var zip = Path.Combine(_directory, $"{kind}.zip");
        mlContext.Model.Save(transformer, data.Schema, zip);
        foreach (var file in files)
            File.Delete(file); // the zip must carry copies of user-supplied vocabularies

        var fresh = new MLContext();
        var loaded = Assert.IsType<TokenizingTransformer>(fresh.Model.Load(zip, out _));
        Assert.Equal(kind, loaded.Kind);
        Assert.Equal(transformer.VocabularySize, loaded.VocabularySize);
        Assert.Equal(transformer.PaddingId, loaded.PaddingId);
        Assert.Equal(transformer.MaxLength, loaded.MaxLength);
        Assert.Equal(transformer.SpecialTokens.OrderBy(p => p.Key), loaded.SpecialTokens.OrderBy(p => p.Key));
        Assert.Equal(expected, TestData.Ids(loaded.Transform(TestData.Texts(fresh, TestData.Sentences)), "Ids"));

        var (typeName, probeIds) = RunProbe(zip, TestData.Sentences, "Ids");
        Assert.Equal(typeof(TokenizingTransformer).FullName, typeName);
        Assert.Equal(expected, probeIds);
    }

    [Fact]
    public void SavedPipeline_WithLengthAndMask_RoundTripsAllColumns()
    {
        var mlContext = new MLContext();
        var data = TestData.Texts(mlContext, TestData.Sentences);
        var model = mlContext.Transforms.Text.TokenizeToIds(new TiktokenTokenizationOptions
        {
            OutputColumnName = "Ids", InputColumnName = "Text", MaxLength = 32, Truncation = TruncationSide.KeepLast, AddLengthColumn = true, AddMaskColumn = true,
        }).Append(mlContext.Transforms.Conversion.ConvertType("IdsAsSingle", "Ids", Microsoft.ML.Data.DataKind.Single)).Fit(data);
        var zip = Path.Combine(_directory, "pipeline.zip");
        mlContext.Model.Save(model, data.Schema, zip);

        var fresh = new MLContext();
        var loaded = fresh.Model.Load(zip, out _);
        var before = model.Transform(data);
        var after = loaded.Transform(TestData.Texts(fresh, TestData.Sentences));
        Assert.Equal(TestData.Ids(before, "Ids"), TestData.Ids(after, "Ids"));
        Assert.Equal(before.GetColumn<int>("IdsLength"), after.GetColumn<int>("IdsLength"));
        Assert.Equal(before.GetColumn<float[]>("IdsMask"), after.GetColumn<float[]>("IdsMask"));
        Assert.Equal(before.GetColumn<float[]>("IdsAsSingle"), after.GetColumn<float[]>("IdsAsSingle"));
    }

    private (TokenizingTransformer Transformer, string[] Files) Fit(MLContext mlContext, TokenizerKind kind, IDataView data)
    {
        switch (kind)
        {
            case TokenizerKind.Gpt2:
                return (mlContext.Transforms.Text.TokenizeToIds(new TiktokenTokenizationOptions
                { OutputColumnName = "Ids", InputColumnName = "Text", MaxLength = 48, AppendEndOfText = true }).Fit(data), []);
            case TokenizerKind.Cl100kBase:
                return (mlContext.Transforms.Text.TokenizeToIds("Ids", "Text", TiktokenVocabulary.Cl100kBase, 48).Fit(data), []);
            case TokenizerKind.BytePairEncoding:
            {
                var vocabulary = Copy(TestData.Gpt2Encoder);
                var merges = Copy(TestData.Gpt2Merges);
                return (mlContext.Transforms.Text.TokenizeToIdsWithBpe("Ids", vocabulary, merges, "Text", 48).Fit(data), [vocabulary, merges]);
            }
            case TokenizerKind.WordPiece:
            {
                var vocabulary = Path.Combine(_directory, "vocab.txt");
                File.WriteAllLines(vocabulary, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "of", "to", "is", "you", "##s", "##ing", "computer", "."]);
                return (mlContext.Transforms.Text.TokenizeToIdsWithWordPiece("Ids", vocabulary, "Text", 48).Fit(data), [vocabulary]);
            }
            case TokenizerKind.WordVocabulary:
                return (mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Ids", "Text", maxVocabularySize: 300, maxLength: 48).Fit(data), []);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    private string Copy(string file)
    {
        var copy = Path.Combine(_directory, Path.GetFileName(file));
        File.Copy(file, copy, overwrite: true);
        return copy;
    }

    private (string TypeName, int[][] Ids) RunProbe(string zip, IReadOnlyList<string> texts, string column)
    {
        var input = Path.Combine(_directory, "texts.json");
        var output = Path.Combine(_directory, "ids.json");
        File.WriteAllText(input, JsonSerializer.Serialize(texts));
        var (exitCode, stdout, stderr) = ProbeRunner.Run("tokens", zip, input, output, column);
        Assert.True(exitCode == 0, $"probe failed ({exitCode}): {stderr}");
        return (stdout.Trim(), JsonSerializer.Deserialize<int[][]>(File.ReadAllText(output))!);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

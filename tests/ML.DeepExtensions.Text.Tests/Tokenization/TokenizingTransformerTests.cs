using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Text.Tokenization;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Tokenization;

/// <summary>The output contract (ids, length, mask, empty text), PredictionEngine, schema checks and bad input.</summary>
public sealed class TokenizingTransformerTests
{
    private const int MaxLength = 24;

    private static TiktokenTokenizationOptions Options() => new()
    {
        OutputColumnName = "Ids", InputColumnName = "Text", MaxLength = MaxLength, AddLengthColumn = true, AddMaskColumn = true,
    };

    [Fact]
    public void Transform_LengthAndMask_DescribeTheRealTokens()
    {
        var mlContext = new MLContext();
        var data = TestData.Texts(mlContext, TestData.Sentences);
        var output = mlContext.Transforms.Text.TokenizeToIds(Options()).Fit(data).Transform(data);

        Assert.Equal(new VectorDataViewType(NumberDataViewType.Int32, MaxLength), output.Schema["Ids"].Type);
        Assert.Equal(NumberDataViewType.Int32, output.Schema["IdsLength"].Type);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, MaxLength), output.Schema["IdsMask"].Type);

        var lengths = output.GetColumn<int>("IdsLength").ToArray();
        var masks = output.GetColumn<float[]>("IdsMask").ToArray();
        var ids = TestData.Ids(output, "Ids");
        for (var i = 0; i < lengths.Length; i++)
        {
            var reference = TestData.Reference.Encode(TestData.Sentences[i]);
            Assert.Equal(Math.Min(reference.Count, MaxLength), lengths[i]);
            Assert.Equal(Enumerable.Range(0, MaxLength).Select(j => j < lengths[i] ? 1f : 0f), masks[i]);
            Assert.Equal(reference.Take(MaxLength), ids[i].Take(lengths[i]));
        }
        Assert.Contains(lengths, l => l == MaxLength);
        Assert.Contains(lengths, l => l < MaxLength);
    }

    [Fact]
    public void EmptyOrNullText_GivesAllPaddingAndLengthZero()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(new[] { new TestData.TextRow { Text = "" }, new TestData.TextRow { Text = null! }, new TestData.TextRow { Text = "a" } });
        var transformer = mlContext.Transforms.Text.TokenizeToIds(new TiktokenTokenizationOptions
        {
            OutputColumnName = "Ids", InputColumnName = "Text", MaxLength = 4, AddLengthColumn = true, AddMaskColumn = true, AppendEndOfText = true,
        }).Fit(data);
        var output = transformer.Transform(data);
        var ids = TestData.Ids(output, "Ids");
        var pad = transformer.PaddingId;
        Assert.Equal([pad, pad, pad, pad], ids[0]);
        Assert.Equal([pad, pad, pad, pad], ids[1]);
        Assert.Equal([.. TestData.Reference.Encode("a"), 50256, pad, pad], ids[2]);
        Assert.Equal([0, 0, 2], output.GetColumn<int>("IdsLength"));
        Assert.Equal([0f, 0f, 0f, 0f], output.GetColumn<float[]>("IdsMask").First());
        Assert.Empty(transformer.EncodeToIds(""));
        Assert.Throws<ArgumentNullException>(() => transformer.EncodeToIds(null!));
    }

    private sealed class Prediction
    {
        public string Text { get; set; } = "";

        [VectorType(MaxLength)]
        public int[] Ids { get; set; } = [];

        public int IdsLength { get; set; }

        [VectorType(MaxLength)]
        public float[] IdsMask { get; set; } = [];
    }

    [Fact]
    public void PredictionEngine_GivesTheSameIdsAsBatchedTransform()
    {
        var mlContext = new MLContext();
        var data = TestData.Texts(mlContext, TestData.Sentences);
        var transformer = mlContext.Transforms.Text.TokenizeToIds(Options()).Fit(data);
        var batched = TestData.Ids(transformer.Transform(data), "Ids");
        var lengths = transformer.Transform(data).GetColumn<int>("IdsLength").ToArray();
        using var engine = mlContext.Model.CreatePredictionEngine<TestData.TextRow, Prediction>(transformer);
        for (var i = 0; i < TestData.Sentences.Count; i++)
        {
            var prediction = engine.Predict(new TestData.TextRow { Text = TestData.Sentences[i] });
            Assert.Equal(batched[i], prediction.Ids);
            Assert.Equal(lengths[i], prediction.IdsLength);
            Assert.Equal(lengths[i], (int)prediction.IdsMask.Sum());
        }
    }

    private sealed class IndexedText
    {
        public int Index { get; set; }

        public string Text { get; set; } = "";
    }

    [Fact]
    public void ParallelCursors_GiveTheSameIdsAsOneCursor()
    {
        var mlContext = new MLContext();
        var rows = Enumerable.Range(0, 400).Select(i => new IndexedText { Index = i, Text = TestData.Sentences[i % TestData.Sentences.Count] }).ToList();
        var data = mlContext.Data.LoadFromEnumerable(rows);
        var output = mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Ids", "Text", maxLength: MaxLength).Fit(data).Transform(data);
        var sequential = TestData.Ids(output, "Ids");

        var seen = new int[rows.Count][];
        var cursors = output.GetRowCursorSet([output.Schema["Index"], output.Schema["Ids"]], 4);
        Assert.True(cursors.Length > 1, $"expected several cursors, got {cursors.Length}");
        System.Threading.Tasks.Parallel.ForEach(cursors, cursor =>
        {
            using (cursor)
            {
                var index = cursor.GetGetter<int>(output.Schema["Index"]);
                var ids = cursor.GetGetter<VBuffer<int>>(output.Schema["Ids"]);
                int i = 0;
                VBuffer<int> value = default;
                while (cursor.MoveNext())
                {
                    index(ref i);
                    ids(ref value);
                    seen[i] = value.DenseValues().ToArray();
                }
            }
        });
        Assert.Equal(sequential, seen);
    }

    [Fact]
    public void Estimator_OutputSchema_MatchesTheTransformedSchema()
    {
        var mlContext = new MLContext();
        var data = TestData.Texts(mlContext, ["x"]);
        var estimator = mlContext.Transforms.Text.TokenizeToIds(Options());
        var shape = estimator.GetOutputSchema(Shape(data.Schema));
        var schema = estimator.Fit(data).GetOutputSchema(data.Schema);
        foreach (var name in new[] { "Ids", "IdsLength", "IdsMask" })
        {
            Assert.True(shape.Any(c => c.Name == name), name);
            var column = shape.First(c => c.Name == name);
            var type = schema[name].Type;
            Assert.Equal((type as VectorDataViewType)?.ItemType ?? type, column.ItemType);
            Assert.Equal(type is VectorDataViewType, column.Kind == SchemaShape.Column.VectorKind.Vector);
        }
    }

    /// <summary>ML.NET's own SchemaShape.Create (internal; its tests call it the same way).</summary>
    private static SchemaShape Shape(DataViewSchema schema)
        => (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!.Invoke(null, [schema])!;

    private sealed class NumberRow
    {
        public float Text { get; set; }
    }

    [Fact]
    public void MissingTextColumn_ThrowsNamingTheColumn()
    {
        var mlContext = new MLContext();
        var data = TestData.Texts(mlContext, ["x"]);
        var estimator = mlContext.Transforms.Text.TokenizeToIds("Ids", "Body");
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data));
        Assert.Contains("'Body'", ex.Message);
        Assert.Contains("'Text'", ex.Message); // lists what exists
        var other = mlContext.Data.LoadFromEnumerable(new[] { new NumberRow() });
        Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Transforms.Text.TokenizeToIds("Ids", "Body").GetOutputSchema(Shape(other.Schema)));
    }

    [Fact]
    public void NonTextColumn_ThrowsNamingColumnExpectedAndReceivedTypes()
    {
        var mlContext = new MLContext();
        var numbers = mlContext.Data.LoadFromEnumerable(new[] { new NumberRow { Text = 1 } });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Ids", "Text").Fit(numbers));
        Assert.Contains("Schema mismatch for text column 'Text'", ex.Message);
        Assert.Contains("expected String", ex.Message);
        Assert.Contains("got Single", ex.Message);

        var transformer = mlContext.Transforms.Text.TokenizeToIds("Ids", "Text").Fit(TestData.Texts(mlContext, ["x"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => transformer.Transform(numbers));
        Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Transforms.Text.TokenizeToIds("Ids", "Text").GetOutputSchema(Shape(numbers.Schema)));
    }

    [Fact]
    public void MissingVocabularyFiles_ThrowFileNotFoundNamingThePath()
    {
        var mlContext = new MLContext();
        var missing = Path.Combine(Path.GetTempPath(), $"mldx-missing-{Guid.NewGuid():N}", "vocab.txt");
        var wordPiece = Assert.Throws<FileNotFoundException>(() => mlContext.Transforms.Text.TokenizeToIdsWithWordPiece("Ids", missing, "Text"));
        Assert.Contains(missing, wordPiece.Message);
        Assert.Equal(missing, wordPiece.FileName);

        var merges = Assert.Throws<FileNotFoundException>(() => mlContext.Transforms.Text.TokenizeToIdsWithBpe("Ids", TestData.Gpt2Encoder, missing, "Text"));
        Assert.Contains(missing, merges.Message);
        Assert.Contains("MergesPath", merges.Message);
    }

    [Fact]
    public void MalformedBpeVocabulary_ThrowsInvalidDataNamingThePath()
    {
        var mlContext = new MLContext();
        var file = Path.Combine(Path.GetTempPath(), $"mldx-bad-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, "this is not JSON");
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => mlContext.Transforms.Text.TokenizeToIdsWithBpe("Ids", file, TestData.Gpt2Merges, "Text"));
            Assert.Contains(file, ex.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void NonPositiveMaxLength_ThrowsNamingMaxLength(int maxLength)
    {
        var mlContext = new MLContext();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Transforms.Text.TokenizeToIds("Ids", "Text", maxLength: maxLength));
        Assert.Equal("MaxLength", ex.ParamName);
        Assert.Contains($"Received: MaxLength={maxLength}", ex.Message);
    }

    [Fact]
    public void EmptyOutputColumnName_ThrowsNamingTheOption()
    {
        var mlContext = new MLContext();
        var ex = Assert.Throws<ArgumentException>(() => mlContext.Transforms.Text.TokenizeToIds(new TiktokenTokenizationOptions()));
        Assert.Equal("OutputColumnName", ex.ParamName);
    }
}

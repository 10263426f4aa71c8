using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Text.Classification;
using Xunit;

namespace ML.DeepExtensions.Text.Tests.Classification;

/// <summary>Bad inputs fail before training with messages naming the column or file, what was expected and what was received.</summary>
public sealed class NeuralTextBadInputTests
{
    public sealed class TextAndBool
    {
        public string Text { get; set; } = "";
        public bool Label { get; set; }
    }

    public sealed class TextAndFloat
    {
        public string Text { get; set; } = "";
        public float Label { get; set; }
    }

    public sealed class TextAndString
    {
        public string Text { get; set; } = "";
        public string Label { get; set; } = "";
    }

    public sealed class NumberAndBool
    {
        public float Text { get; set; }
        public bool Label { get; set; }
    }

    private static readonly string[] Texts = TextData.Emails.Take(8).Select(e => e.Text).ToArray();

    private static NeuralTextBinaryOptions Tiny() => new() { Network = TextEncoder.Lstm(4), EmbeddingDimensions = 4, MaxLength = 8, Epochs = 1 };

    [Fact]
    public void BinaryLabelNotBoolean_ThrowsNamingTheColumnAndTypes()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(Texts.Select(t => new TextAndFloat { Text = t, Label = 1 }));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.BinaryClassification.Trainers.NeuralTextClassifier(Tiny()).Fit(data));
        Assert.Contains("label column 'Label'", error.Message);
        Assert.Contains("expected Boolean", error.Message);
        Assert.Contains("got Single", error.Message);
    }

    [Fact]
    public void MulticlassLabelNotKey_ThrowsNamingTheColumnAndTheFix()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(Texts.Select(t => new TextAndString { Text = t, Label = "a" }));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            mlContext.MulticlassClassification.Trainers.NeuralTextClassifier(new NeuralTextMulticlassOptions { Epochs = 1 }).Fit(data));
        Assert.Contains("label column 'Label'", error.Message);
        Assert.Contains("MapValueToKey", error.Message);
        Assert.Contains("got String", error.Message);
    }

    [Fact]
    public void RegressionLabelBoolean_ThrowsNamingTheColumn()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(Texts.Select(t => new TextAndBool { Text = t }));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.Regression.Trainers.NeuralTextRegressor(new NeuralTextRegressionOptions { Epochs = 1 }).Fit(data));
        Assert.Contains("label column 'Label'", error.Message);
        Assert.Contains("expected Single or Double", error.Message);
    }

    [Fact]
    public void TextColumnOfNumbers_ThrowsNamingWhatIsAccepted()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 4).Select(i => new NumberAndBool { Text = i }));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.BinaryClassification.Trainers.NeuralTextClassifier(Tiny()).Fit(data));
        Assert.Contains("text column 'Text'", error.Message);
        Assert.Contains("Int32 token ids", error.Message);
        Assert.Contains("got Single", error.Message);
    }

    [Fact]
    public void MissingTextColumn_ListsTheColumnsThatExist()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(Texts.Select(t => new TextAndBool { Text = t }));
        var options = Tiny();
        options.TextColumnName = "Body";
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.BinaryClassification.Trainers.NeuralTextClassifier(options).Fit(data));
        Assert.Contains("'Body' not found", error.Message);
        Assert.Contains("'Text'", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("  \n\t ")]
    public void EmptyOrNullTrainingText_ThrowsNamingTheColumnAndRow(string? empty)
    {
        var mlContext = new MLContext();
        var rows = Texts.Select(t => new TextAndBool { Text = t }).ToList();
        rows[3].Text = empty!;
        var data = mlContext.Data.LoadFromEnumerable(rows);
        var error = Assert.Throws<InvalidOperationException>(() => mlContext.BinaryClassification.Trainers.NeuralTextClassifier(Tiny()).Fit(data));
        Assert.Contains("Text column 'Text' is empty in row 3 of the training data", error.Message);
        Assert.Contains("expected text with at least one word", error.Message);
    }

    [Fact]
    public void TokenIdsWithoutVocabularySize_ThrowsNamingTheOption()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(Texts.Select(t => new TextAndBool { Text = t }));
        var ids = mlContext.Transforms.Text.TokenizeToIds("Ids", "Text", maxLength: 16).Fit(data).Transform(data);
        var options = Tiny();
        options.TextColumnName = "Ids";
        var error = Assert.Throws<ArgumentException>(() => mlContext.BinaryClassification.Trainers.NeuralTextClassifier(options).Fit(ids));
        Assert.Equal("VocabularySize", error.ParamName);
        Assert.Contains("'Ids' holds token ids", error.Message);
    }

    [Fact]
    public void TokenIdsBeyondTheGivenVocabularySize_ThrowsNamingTheRange()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(Texts.Select(t => new TextAndBool { Text = t }));
        var ids = mlContext.Transforms.Text.TokenizeToIds("Ids", "Text", maxLength: 16).Fit(data).Transform(data);
        var options = Tiny();
        options.TextColumnName = "Ids";
        options.VocabularySize = 1000; // GPT-2 ids go up to 50,257
        options.PaddingId = 0;
        var error = Assert.ThrowsAny<Exception>(() => mlContext.BinaryClassification.Trainers.NeuralTextClassifier(options).Fit(ids));
        var message = error is ArgumentOutOfRangeException ? error.Message : error.InnerException?.Message ?? error.Message;
        Assert.Contains("[0, 1000)", message);
    }

    [Fact]
    public void TokenizerReadingAnotherColumn_ThrowsNamingBoth()
    {
        var mlContext = new MLContext();
        var data = mlContext.Data.LoadFromEnumerable(Texts.Select(t => new TextAndBool { Text = t }));
        var options = Tiny();
        options.Tokenizer = mlContext.Transforms.Text.TokenizeToIds("Ids", "Label2", maxLength: 16);
        var error = Assert.ThrowsAny<ArgumentException>(() => mlContext.BinaryClassification.Trainers.NeuralTextClassifier(options).Fit(data));
        Assert.Contains("Label2", error.Message);
    }

    [Fact]
    public void MissingVocabularyFile_ThrowsNamingTheFile()
    {
        var mlContext = new MLContext();
        var missing = Path.Combine(Path.GetTempPath(), "mldx-no-such-dir", "vocab.txt");
        var error = Assert.Throws<FileNotFoundException>(() => new NeuralTextBinaryOptions
        {
            Tokenizer = mlContext.Transforms.Text.TokenizeToIdsWithWordPiece("Ids", missing, "Text"),
        });
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void TransformerWidthNotDivisibleByHeads_ThrowsAtTheCatalogCall()
    {
        var mlContext = new MLContext();
        var error = Assert.Throws<ArgumentException>(() => mlContext.BinaryClassification.Trainers.NeuralTextClassifier(new NeuralTextBinaryOptions
        {
            Network = TextEncoder.Transformer(heads: 3),
            EmbeddingDimensions = 64,
        }));
        Assert.Equal("EmbeddingDimensions", error.ParamName);
        Assert.Contains("heads=3", error.Message);
    }

    [Fact]
    public void BadEncoderSettings_ThrowWithTheReceivedValue()
    {
        Assert.Contains("Received: hiddenSize=0", Assert.Throws<ArgumentOutOfRangeException>(() => TextEncoder.Lstm(hiddenSize: 0)).Message);
        Assert.Contains("Received: layers=0", Assert.Throws<ArgumentOutOfRangeException>(() => TextEncoder.Transformer(layers: 0)).Message);
        var mlContext = new MLContext();
        Assert.Contains("Received: Dropout=1", Assert.Throws<ArgumentOutOfRangeException>(() =>
            mlContext.BinaryClassification.Trainers.NeuralTextClassifier(new NeuralTextBinaryOptions { Dropout = 1 })).Message);
    }
}

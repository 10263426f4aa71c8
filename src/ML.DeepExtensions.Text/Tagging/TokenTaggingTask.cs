using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Tasks;
using ML.DeepExtensions.Text.Pretrained;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Text.Tagging;

/// <summary>
/// Words to WordPiece ids and back: a sentence's words are its runs of non-white-space characters; each word becomes its
/// pieces (a word with none, e.g. only control characters, becomes [UNK]), behind [CLS] and before [SEP]. The position of
/// each word's first piece carries the word's label in training and its prediction in scoring (as BERT's token
/// classification does).
/// </summary>
internal sealed class WordPieceAligner(TextTokenizer tokenizer, int maxLength)
{
    private readonly int _classification = tokenizer.ClassificationTokenId ?? throw new InvalidDataException("The WordPiece tokenizer has no [CLS] token.");
    private readonly int _separator = tokenizer.SeparatorTokenId ?? throw new InvalidDataException("The WordPiece tokenizer has no [SEP] token.");
    private readonly int _unknown = tokenizer.UnknownTokenId ?? throw new InvalidDataException("The WordPiece tokenizer has no [UNK] token.");

    public int MaxLength { get; } = maxLength;

    public int PaddingId => tokenizer.PaddingId;

    public static string[] Words(ReadOnlySpan<char> sentence) => sentence.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// The ids of <paramref name="words"/> (real positions only, not padded) and the position of each word's first piece;
    /// null when they need more than <see cref="MaxLength"/> positions (<paramref name="pieces"/> says how many).
    /// </summary>
    public (int[] Ids, int[] Starts)? Align(string[] words, out int pieces)
    {
        var ids = new List<int>(words.Length + 2) { _classification };
        var starts = new int[words.Length];
        for (var w = 0; w < words.Length; w++)
        {
            starts[w] = ids.Count;
            var content = tokenizer.EncodeContent(words[w]);
            if (content.Count == 0)
                ids.Add(_unknown);
            else
                ids.AddRange(content);
        }
        ids.Add(_separator);
        pieces = ids.Count;
        return ids.Count > MaxLength ? null : (ids.ToArray(), starts);
    }

    /// <summary>The message for a sentence too long for <see cref="MaxLength"/>.</summary>
    public string TooLong(string column, long row, string role, int words, int pieces)
        => $"Text column '{column}', row {row} of the {role} data: its {words} words are {pieces} WordPiece pieces with [CLS] and [SEP], " +
           $"more than MaxLength={MaxLength}. Raise MaxLength (at most the encoder's positions) or split the sentence.";
}

/// <summary>
/// Token classification on a pretrained BERT: sentence column + a key vector with one label per word → per-position
/// logits <c>(MaxLength, K)</c>, trained with <see cref="PositionClassificationObjective"/> on the first piece of each word.
/// Every row is read, aligned and checked before training (label count = word count, labels in range, length).
/// </summary>
internal sealed class TokenTaggingTask(NeuralTokenClassifierOptions options, WordPieceAligner aligner) : TrainingTask
{
    private PretrainedBert Bert => options.Encoder!;

    /// <summary>Classes: the label's key count.</summary>
    public int Classes { get; private set; }

    /// <inheritdoc />
    public override TaskNetwork Plan(DataViewSchema training, DataViewSchema? validation)
    {
        TextColumn.Check(training, options.SentenceColumnName);
        Classes = CheckLabel(training, options.LabelColumnName);
        if (validation is not null)
        {
            TextColumn.Check(validation, options.SentenceColumnName);
            var classes = CheckLabel(validation, options.LabelColumnName, "validation label");
            if (classes != Classes)
                throw SchemaChecks.Mismatch("validation label", options.LabelColumnName, $"a vector of keys with {Classes} values, as the training label", validation[options.LabelColumnName].Type);
        }
        return new TaskNetwork(CreateNetwork(Bert, Classes, options.Dropout), [aligner.MaxLength]);
    }

    /// <summary>The encoder's per-position outputs followed by a Dense layer to K logits at each position.</summary>
    public static Network CreateNetwork(PretrainedBert bert, int classes, double dropout)
        => Network.Create().Add(bert.CreateLayer(SequencePooling.None, normalize: false, dropout)).Dense(classes);

    private const string ExpectedLabel = "a vector of UInt32 keys with at least 2 values (one label per word; e.g. MapValueToKey over a String vector)";

    /// <summary>
    /// The label column must be a vector of UInt32 keys; returns the key count (≥ 2). What was received is described as the shape
    /// form (<see cref="OutputSchema(SchemaShape, NeuralTokenClassifierOptions)"/>) describes it, so both throw the same message.
    /// </summary>
    public static int CheckLabel(DataViewSchema schema, string name, string role = "label")
    {
        var type = SchemaChecks.Find(schema, role, name).Type;
        if (type is not VectorDataViewType { ItemType: KeyDataViewType key } || key.RawType != typeof(uint) || key.Count < 2 || key.Count > int.MaxValue)
        {
            MLNetInternals.Shape(schema).TryFindColumn(name, out var shape);
            throw SchemaChecks.Mismatch(role, name, ExpectedLabel, SchemaChecks.Describe(shape));
        }
        return (int)key.Count;
    }

    /// <inheritdoc />
    public override SchemaShape OutputSchema(SchemaShape input) => OutputSchema(input, options);

    /// <summary>The input shape with the predicted-label column; checks the columns as far as a shape can tell, as <see cref="Plan"/> does.</summary>
    public static SchemaShape OutputSchema(SchemaShape input, NeuralTokenClassifierOptions options)
    {
        TextColumn.Check(input, options.SentenceColumnName);
        var label = SchemaChecks.Find(input, "label", options.LabelColumnName);
        if (label.Kind == SchemaShape.Column.VectorKind.Scalar || !label.IsKey || label.ItemType.RawType != typeof(uint))
            throw SchemaChecks.Mismatch("label", options.LabelColumnName, ExpectedLabel, SchemaChecks.Describe(label));
        var columns = input.ToDictionary(c => c.Name);
        var output = options.OutputColumns.PredictedLabel;
        columns[output] = MLNetInternals.Column(output, SchemaShape.Column.VectorKind.VariableVector, label.ItemType, true, label.Annotations);
        return new SchemaShape(columns.Values);
    }

    /// <inheritdoc />
    public override BatchSource Read(IDataView data, Func<long, bool>? rows, string role, TrainerOptions trainerOptions)
    {
        var sentence = data.Schema[options.SentenceColumnName];
        var label = data.Schema[options.LabelColumnName];
        using var cursor = data.GetRowCursor([sentence, label]);
        var getText = cursor.GetGetter<ReadOnlyMemory<char>>(sentence);
        var getLabels = cursor.GetGetter<VBuffer<uint>>(label);
        ReadOnlyMemory<char> text = default;
        VBuffer<uint> labels = default;
        var examples = new List<(int[] Ids, long[] Targets)>();
        long row = -1;
        while (cursor.MoveNext())
        {
            row++;
            if (rows is not null && !rows(row))
                continue;
            getText(ref text);
            getLabels(ref labels);
            var words = WordPieceAligner.Words(text.Span);
            if (words.Length == 0)
                throw new InvalidDataException($"Text column '{sentence.Name}' is empty in row {row} of the {role} data (received '{text}'): expected at least one word.");
            var values = labels.DenseValues().ToArray();
            if (values.Length != words.Length)
                throw new InvalidDataException(
                    $"Row {row} of the {role} data: label column '{label.Name}' has {values.Length} labels but text column '{sentence.Name}' has {words.Length} words " +
                    "(words are separated by white space); expected one label per word.");
            var missing = Array.IndexOf(values, 0u);
            if (missing >= 0)
                throw new InvalidDataException(
                    $"Row {row} of the {role} data: label column '{label.Name}' has a missing key (0, a value outside the key's values) for word {missing} ('{words[missing]}').");
            var aligned = aligner.Align(words, out var pieces)
                ?? throw new InvalidDataException(aligner.TooLong(sentence.Name, row, role, words.Length, pieces));
            var targets = new long[aligned.Ids.Length];
            Array.Fill(targets, PositionClassificationObjective.Ignore);
            for (var w = 0; w < words.Length; w++)
                targets[aligned.Starts[w]] = values[w] - 1;
            examples.Add((aligned.Ids, targets));
        }
        if (examples.Count == 0)
            throw BatchSource.NoRows($"The {role} data has no rows: at least one labelled sentence is required.");
        return new TaggedBatchSource(examples, aligner.MaxLength, aligner.PaddingId, options.LengthBucketing);
    }

    /// <inheritdoc />
    public override TrainingObjective CreateObjective() => new PositionClassificationObjective();
}

/// <summary>
/// In-memory batches of aligned sentences, each batch only as long as its longest sentence (the encoder masks padding,
/// so trailing padding changes nothing and costs time); shuffled passes group sentences of similar length when bucketing.
/// </summary>
internal sealed class TaggedBatchSource(List<(int[] Ids, long[] Targets)> rows, int maxLength, int paddingId, bool bucketing)
    : BatchSource(maxLength, ScalarType.Int64)
{
    public override bool InMemory => true;

    public override long? Count => rows.Count;

    protected override IEnumerable<Batch> Produce(int batchSize, Random? shuffle, CancellationToken cancellation)
    {
        var order = Order(rows.Count, shuffle, batchSize, bucketing ? i => rows[i].Ids.Length : null);
        for (var start = 0; start < order.Length; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var batch = order.AsSpan(start, Math.Min(batchSize, order.Length - start)).ToArray();
            var length = batch.Max(i => rows[i].Ids.Length);
            var features = new float[batch.Length * length];
            var labels = new long[batch.Length * length];
            Array.Fill(features, paddingId);
            Array.Fill(labels, PositionClassificationObjective.Ignore);
            for (var b = 0; b < batch.Length; b++)
            {
                var (ids, targets) = rows[batch[b]];
                for (var j = 0; j < ids.Length; j++)
                {
                    features[b * length + j] = ids[j];
                    labels[b * length + j] = targets[j];
                }
            }
            yield return new Batch(HostCopy.ToTensor<float>(features, [batch.Length, length]), HostCopy.ToTensor(labels.AsSpan(), [batch.Length, length]));
        }
    }
}

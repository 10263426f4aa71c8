using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text.Persistence;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text.Tagging;

/// <summary>
/// A fine-tuned token classifier: adds <see cref="OutputColumnName"/>, a variable-length vector of keys with one predicted
/// label per word of <see cref="SentenceColumnName"/> (words are runs of non-white-space characters), with the training
/// label's key values, so <c>MapKeyToValue</c> turns it back into tags. Saved with <c>mlContext.Model.Save</c> (tokenizer
/// vocabulary, network, classes) and loaded back as this type in any process; no ONNX file is needed.
/// </summary>
public sealed class NeuralTokenClassifierTransformer : ITrainedNetworkTransformer, IDisposable
{
    private const int PredictionBatchSize = 32;

    /// <summary>Rows <c>Transform</c> reads ahead and predicts together (sorted by length, then in forward passes of 32).</summary>
    internal const int TransformBatchSize = 256;
    private readonly WordPieceAligner _aligner;

    internal NeuralTokenClassifierTransformer(IHostEnvironment env, TokenizingTransformer tokenizer, NetworkModel model, string sentenceColumnName,
        string outputColumnName, string[] classNames, string classValueType, IReadOnlyList<EpochMetrics> history)
    {
        Environment = env;
        Tokenizer = tokenizer;
        Model = model;
        SentenceColumnName = sentenceColumnName;
        OutputColumnName = outputColumnName;
        ClassNames = classNames;
        ClassValueType = classValueType;
        History = history;
        _aligner = new WordPieceAligner(tokenizer.Tokenizer, tokenizer.MaxLength);
    }

    /// <summary>The text column read.</summary>
    public string SentenceColumnName { get; }

    /// <summary>The added column: one key per word.</summary>
    public string OutputColumnName { get; }

    /// <summary>The labels (the training label's key values), in key order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The WordPiece tokenizer of the encoder (saved inside the model).</summary>
    public TokenizingTransformer Tokenizer { get; }

    /// <summary>Pieces per sentence, [CLS] and [SEP] included; longer sentences are rejected.</summary>
    public int MaxLength => Tokenizer.MaxLength;

    /// <inheritdoc />
    public Network Network => Model.Network;

    /// <inheritdoc />
    public IReadOnlyList<EpochMetrics> History { get; }

    /// <summary>
    /// Threads torch uses inside one operation while this model scores, &gt; 0, set and restored around each call on the
    /// calling thread; null leaves torch's setting alone. Not saved in the model zip.
    /// </summary>
    public int? NumberOfThreads
    {
        get => _numberOfThreads;
        set => _numberOfThreads = value is { } threads ? Guard.Positive(threads, nameof(NumberOfThreads)) : null;
    }

    private int? _numberOfThreads;

    internal string ClassValueType { get; }

    internal NetworkModel Model { get; }

    internal IHostEnvironment Environment { get; }

    /// <summary>
    /// The predicted label (0-based index into <see cref="ClassNames"/>) of every word of every sentence, in batches of
    /// sentences of similar length (one forward pass per batch).
    /// </summary>
    /// <exception cref="InvalidDataException">A sentence needs more than <see cref="MaxLength"/> pieces (the message says which).</exception>
    public IReadOnlyList<int[]> Predict(IReadOnlyList<string> sentences) => Predict(Guard.NotNull(sentences), 0, "given");

    /// <summary><see cref="Predict(IReadOnlyList{string})"/>; messages number the sentences from <paramref name="firstRow"/> as rows of the <paramref name="role"/> data.</summary>
    internal IReadOnlyList<int[]> Predict(IReadOnlyList<string> sentences, long firstRow, string role)
    {
        var aligned = new (int[] Ids, int[] Starts)[sentences.Count];
        for (var i = 0; i < sentences.Count; i++)
        {
            var words = WordPieceAligner.Words((sentences[i] ?? "").AsSpan());
            aligned[i] = _aligner.Align(words, out var pieces)
                ?? throw new InvalidDataException(_aligner.TooLong(SentenceColumnName, firstRow + i, role, words.Length, pieces));
        }
        var result = new int[sentences.Count][];
        var order = Enumerable.Range(0, sentences.Count).OrderBy(i => aligned[i].Ids.Length).ToArray();
        using var threads = TorchThreads.Use(_numberOfThreads);
        for (var start = 0; start < order.Length; start += PredictionBatchSize)
        {
            var batch = order.AsSpan(start, Math.Min(PredictionBatchSize, order.Length - start)).ToArray();
            var logits = Logits(batch.Select(i => aligned[i].Ids).ToArray(), out var length);
            var classes = ClassNames.Count;
            for (var b = 0; b < batch.Length; b++)
            {
                var starts = aligned[batch[b]].Starts;
                var labels = new int[starts.Length];
                for (var w = 0; w < starts.Length; w++)
                    labels[w] = ArgMax(logits.AsSpan((b * length + starts[w]) * classes, classes));
                result[batch[b]] = labels;
            }
        }
        return result;
    }

    /// <summary>Logits (rows × length × classes) of right-padded rows cut to the longest one.</summary>
    private float[] Logits(int[][] rows, out int length)
    {
        length = Math.Max(1, rows.Max(r => r.Length));
        var features = new float[rows.Length * length];
        Array.Fill(features, Tokenizer.PaddingId);
        for (var r = 0; r < rows.Length; r++)
        {
            for (var j = 0; j < rows[r].Length; j++)
                features[r * length + j] = rows[r][j];
        }
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = HostCopy.ToTensor<float>(features, [rows.Length, length]).to(Model.Device);
        return HostCopy.ToArray<float>(Model.Module.forward(x));
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
                best = i;
        }
        return best;
    }

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
        => RowMapping.OutputSchema(Guard.NotNull(inputSchema), schema => new WordLabelRowMapper(this, schema));

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
        => RowMapping.RowToRowMapper(Environment, Guard.NotNull(inputSchema), schema => new WordLabelRowMapper(this, schema));

    /// <summary>
    /// The input with the word-label column: the sentences of <see cref="TransformBatchSize"/> rows are predicted together by
    /// <see cref="Predict(IReadOnlyList{string})"/> (sorted by length inside the batch, so little padding); a row's labels do
    /// not depend on the other rows of its batch.
    /// </summary>
    public IDataView Transform(IDataView input)
    {
        TextColumn.Check(Guard.NotNull(input).Schema, SentenceColumnName);
        return new BatchedDataView(new ColumnBatchScorer<string, int[], VBuffer<uint>>(TransformBatchSize, SentenceColumnName,
            $"sentence column '{SentenceColumnName}'", OutputColumnName, GetOutputSchema,
            row => TextColumn.Reader(row, row.Schema[SentenceColumnName]),
            (sentences, firstRow) => Predict(sentences, firstRow, "scored"),
            WordLabelRowMapper.Write), input);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => TokenClassifierFormat.Save(ctx, this);

    /// <summary>Frees the network's native memory now rather than at finalization.</summary>
    public void Dispose() => Model.Dispose();
}

/// <summary>Predicts the current row's word labels once per cursor position (ML.NET's row mapping: PredictionEngine).</summary>
internal sealed class WordLabelRowMapper : IRowMapper
{
    private readonly NeuralTokenClassifierTransformer _parent;
    private readonly int _sentenceIndex;

    public WordLabelRowMapper(NeuralTokenClassifierTransformer parent, DataViewSchema inputSchema)
    {
        TextColumn.Check(inputSchema, parent.SentenceColumnName);
        _parent = parent;
        _sentenceIndex = inputSchema[parent.SentenceColumnName].Index;
    }

    public DataViewSchema.DetachedColumn[] GetOutputColumns()
    {
        var annotations = new DataViewSchema.Annotations.Builder();
        ClassValues.AddKeyValues(annotations, _parent.ClassValueType, _parent.ClassNames.ToArray());
        var type = new VectorDataViewType(new KeyDataViewType(typeof(uint), _parent.ClassNames.Count));
        return [new(_parent.OutputColumnName, type, annotations.ToAnnotations())];
    }

    public Func<int, bool> GetDependencies(Func<int, bool> activeOutput)
    {
        var active = activeOutput(0);
        return column => active && column == _sentenceIndex;
    }

    public Delegate[] CreateGetters(DataViewRow input, Func<int, bool> activeOutput, out Action disposer)
    {
        disposer = () => { };
        if (!activeOutput(0))
            return new Delegate[1];
        var sentence = TextColumn.Reader(input, input.Schema[_sentenceIndex]);
        var labels = RowMapping.OncePerPosition(input, () => _parent.Predict([sentence()], Math.Max(0, input.Position), "scored")[0]);
        ValueGetter<VBuffer<uint>> getter = (ref VBuffer<uint> value) => Write(labels(), ref value);
        return [getter];
    }

    /// <summary>0-based class indices as ML.NET keys (1-based).</summary>
    internal static void Write(int[] labels, ref VBuffer<uint> value)
    {
        var editor = VBufferEditor.Create(ref value, labels.Length);
        for (var i = 0; i < labels.Length; i++)
            editor.Values[i] = (uint)labels[i] + 1;
        value = editor.Commit();
    }

    public ITransformer GetTransformer() => _parent;

    void ICanSaveModel.Save(ModelSaveContext ctx) => TokenClassifierFormat.Save(ctx, _parent);
}

using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Scoring;

/// <summary>Writes one scored output into the output column's value.</summary>
internal delegate void OutputWriter<TOutput, TValue>(TOutput output, ref TValue value);

/// <summary>
/// An <see cref="IBatchScorer"/> of one input column to one output column: each row's input value is read into a slot as the
/// row is read, the batch's values are scored together by one call, and the output column is read from the results. The
/// shape of the transcript, word-label and continuation scorers; networks and detectors have their own.
/// </summary>
/// <typeparam name="TInput">A row's input as the scorer consumes it (samples, a sentence, a prompt).</typeparam>
/// <typeparam name="TOutput">A row's scored result.</typeparam>
/// <typeparam name="TValue">The output column's ML.NET value type.</typeparam>
internal sealed class ColumnBatchScorer<TInput, TOutput, TValue> : IBatchScorer
{
    private readonly Func<DataViewSchema, DataViewSchema> _outputSchema;
    private readonly Func<DataViewRow, Func<TInput>> _inputReader;
    private readonly Func<TInput[], long, IReadOnlyList<TOutput>> _score;
    private readonly OutputWriter<TOutput, TValue> _write;
    private readonly string _outputColumn;

    /// <param name="batchSize">Rows scored together.</param>
    /// <param name="inputColumn">The input column read.</param>
    /// <param name="inputDescription">How a read failure names it, e.g. "audio column 'Audio'".</param>
    /// <param name="outputColumn">The output column.</param>
    /// <param name="outputSchema">The input's columns followed by the output column.</param>
    /// <param name="inputReader">For a cursor, a reader of its current row's input (it may check the value and throw naming the row).</param>
    /// <param name="score">Scores a batch's inputs; the second argument is the cursor position of the batch's first row.</param>
    /// <param name="write">Writes a row's result into the output column's value.</param>
    public ColumnBatchScorer(int batchSize, string inputColumn, string inputDescription, string outputColumn,
        Func<DataViewSchema, DataViewSchema> outputSchema, Func<DataViewRow, Func<TInput>> inputReader,
        Func<TInput[], long, IReadOnlyList<TOutput>> score, OutputWriter<TOutput, TValue> write)
    {
        BatchSize = batchSize;
        ScoredColumns = [inputColumn];
        ScoredColumnsDescription = inputDescription;
        _outputColumn = outputColumn;
        _outputSchema = outputSchema;
        _inputReader = inputReader;
        _score = score;
        _write = write;
    }

    public int BatchSize { get; }

    public IReadOnlyList<string> ScoredColumns { get; }

    public string ScoredColumnsDescription { get; }

    public DataViewSchema OutputSchema(DataViewSchema input) => _outputSchema(input);

    public IBatchReader CreateReader(DataViewRow input) => new Reader(this, input);

    public Action<Microsoft.ML.Model.OnnxConverter.OnnxContext>? SaveAsOnnx => null;

    private sealed class Reader(ColumnBatchScorer<TInput, TOutput, TValue> scorer, DataViewRow input) : IBatchReader
    {
        private readonly Func<TInput> _read = scorer._inputReader(input);
        private readonly TInput[] _inputs = new TInput[scorer.BatchSize];
        private long _firstRow;
        private IReadOnlyList<TOutput> _outputs = [];

        public void Read(int slot)
        {
            if (slot == 0)
                _firstRow = Math.Max(0, input.Position);
            _inputs[slot] = _read();
        }

        public void Score(int rows)
        {
            _outputs = scorer._score(_inputs.AsSpan(0, rows).ToArray(), _firstRow);
            Array.Clear(_inputs);
        }

        public Delegate Getter(string column, Func<int> row)
        {
            if (column != scorer._outputColumn)
                throw new InvalidOperationException($"'{column}' is not an output column of this scorer; expected '{scorer._outputColumn}'.");
            return (ValueGetter<TValue>)((ref TValue value) => scorer._write(_outputs[row()], ref value));
        }
    }
}

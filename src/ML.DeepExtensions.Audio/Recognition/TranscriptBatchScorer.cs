using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// <see cref="SpeechRecognitionTransformer.Transform"/>'s scorer for the shared <see cref="BatchedDataView"/>: each row's samples
/// are read (and checked) as the row is read, <see cref="SpeechRecognitionTransformer.TranscriptionBatchSize"/> utterances are
/// transcribed together by <see cref="SpeechRecognitionTransformer.Transcribe(IReadOnlyList{float[]})"/> (one padded forward pass;
/// features per utterance, packed or masked encoders, so each transcript equals the utterance's alone), and the transcript
/// column is read from that batch.
/// </summary>
internal sealed class TranscriptBatchScorer(SpeechRecognitionTransformer parent) : IBatchScorer
{
    public int BatchSize => SpeechRecognitionTransformer.TranscriptionBatchSize;

    public IReadOnlyList<string> ScoredColumns => [parent.AudioColumnName];

    public string ScoredColumnsDescription => $"audio column '{parent.AudioColumnName}'";

    public DataViewSchema OutputSchema(DataViewSchema input) => parent.GetOutputSchema(input);

    public IBatchReader CreateReader(DataViewRow input) => new Reader(parent, input);

    public Action<Microsoft.ML.Model.OnnxConverter.OnnxContext>? SaveAsOnnx => null;

    private sealed class Reader(SpeechRecognitionTransformer parent, DataViewRow input) : IBatchReader
    {
        private readonly Func<long, string, float[]> _samples = AudioColumn.Getter(input, input.Schema[parent.AudioColumnName]);
        private readonly float[][] _batch = new float[SpeechRecognitionTransformer.TranscriptionBatchSize][];
        private IReadOnlyList<string> _transcripts = [];

        public void Read(int slot) => _batch[slot] = _samples(input.Position, "scored");

        public void Score(int rows)
        {
            _transcripts = parent.Transcribe(_batch.AsSpan(0, rows).ToArray());
            Array.Clear(_batch);
        }

        public Delegate Getter(string column, Func<int> row)
        {
            if (column != parent.OutputColumnName)
                throw new InvalidOperationException($"'{column}' is not a column of the speech recogniser.");
            return (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) => value = _transcripts[row()].AsMemory());
        }
    }
}

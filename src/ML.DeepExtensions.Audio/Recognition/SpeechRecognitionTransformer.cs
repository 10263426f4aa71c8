using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Audio.Interop;
using ML.DeepExtensions.Audio.Persistence;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// A fitted CTC speech recogniser. As a transform it maps the audio column (a vector of Single: mono samples at
/// <see cref="AudioFeatureOptions.SampleRate"/>) to a transcript column (String); <see cref="Transcribe(IReadOnlyList{float[]})"/>
/// transcribes many utterances in batches, <see cref="Evaluate"/> measures WER and CER. Saved with <c>mlContext.Model.Save</c>
/// and loaded back as this type by <c>mlContext.Model.Load</c> in any process.
/// </summary>
/// <remarks>Features are computed per utterance and the encoder runs on packed (or masked) sequences, so a transcript does not
/// depend on the other utterances of its batch: <c>Transform</c> (batches of 32 rows read ahead, one forward pass each),
/// <c>PredictionEngine</c> (one row) and the batched <see cref="Transcribe(IReadOnlyList{float[]})"/> agree.</remarks>
public sealed class SpeechRecognitionTransformer : ITrainedNetworkTransformer, IDisposable
{
    /// <summary>Utterances per forward pass of <c>Transcribe</c> and <c>Transform</c>.</summary>
    internal const int TranscriptionBatchSize = 32;
    private readonly AudioFeatureOptions _features;
    private int? _numberOfThreads;
    private readonly CtcWordList? _wordList;

    /// <summary>Whether disposing this instance frees the network (copies made by <c>WithDecoder</c> share it and do not).</summary>
    private readonly bool _ownsModel;

    internal SpeechRecognitionTransformer(IHostEnvironment env, NetworkModel model, CharacterVocabulary vocabulary, AudioFeatureOptions features,
        string audioColumnName, string outputColumnName, CtcDecoder decoder, int beamWidth, IReadOnlyList<EpochMetrics> history, bool ownsModel = true,
        IReadOnlyList<string>? wordList = null, double outOfListWordPenalty = double.PositiveInfinity)
    {
        _ownsModel = ownsModel;
        Environment = env;
        Model = model;
        CharacterSet = vocabulary;
        _features = features.Clone();
        AudioColumnName = audioColumnName;
        OutputColumnName = outputColumnName;
        Decoder = decoder;
        BeamWidth = beamWidth;
        if (wordList is not null)
        {
            if (decoder != CtcDecoder.PrefixBeamSearch)
                throw new ArgumentException($"A word list is used by the prefix beam search; expected decoder PrefixBeamSearch with a word list. Received: decoder={decoder}", nameof(wordList));
            _wordList = CtcWordList.From(wordList, vocabulary, outOfListWordPenalty);
            WordList = wordList.ToArray();
        }
        OutOfListWordPenalty = outOfListWordPenalty;
        History = history;
        OutputFrames = SpeechEncoding.OutputFrames(model.Network, model.InputShape);
    }

    /// <summary>The network: the encoder (DeepSpeech2-style, QuartzNet or Conformer) and a Dense layer to per-frame character logits.</summary>
    public Network Network => Model.Network;

    /// <summary>Metrics of every training epoch (<c>Loss</c>, <c>WordErrorRate</c>, <c>CharacterErrorRate</c>, <c>WordAccuracy</c>).</summary>
    public IReadOnlyList<EpochMetrics> History { get; }

    /// <summary>The characters the model outputs (class i + 1 is character i; class 0 is the CTC blank).</summary>
    public string Vocabulary => CharacterSet.Characters;

    /// <summary>The feature settings (a copy): audio must be mono at their <see cref="AudioFeatureOptions.SampleRate"/>.</summary>
    public AudioFeatureOptions Features => _features.Clone();

    /// <summary>The audio column read by <c>Transform</c>.</summary>
    public string AudioColumnName { get; }

    /// <summary>The transcript column added by <c>Transform</c>.</summary>
    public string OutputColumnName { get; }

    /// <summary>How frame scores become text.</summary>
    public CtcDecoder Decoder { get; }

    /// <summary>Prefixes kept by prefix beam search.</summary>
    public int BeamWidth { get; }

    /// <summary>The words the beam search is biased to (null: none); see <see cref="SpeechRecognizerOptions.WordList"/>.</summary>
    public IReadOnlyList<string>? WordList { get; }

    /// <summary>Log-probability charged per unlisted word by the word-list beam search (+∞: only listed words); see <see cref="SpeechRecognizerOptions.OutOfListWordPenalty"/>.</summary>
    public double OutOfListWordPenalty { get; }

    /// <summary>Threads torch uses inside one operation while this model transcribes, &gt; 0; null leaves torch's setting alone. Not saved.</summary>
    public int? NumberOfThreads
    {
        get => _numberOfThreads;
        set => _numberOfThreads = value is { } threads ? Guard.Positive(threads, nameof(NumberOfThreads)) : null;
    }

    internal NetworkModel Model { get; }

    /// <summary>Output frames of the encoder for a number of feature frames (what the decoder reads).</summary>
    internal Func<long, long> OutputFrames { get; }

    internal CharacterVocabulary CharacterSet { get; }

    internal IHostEnvironment Environment { get; }

    /// <summary>
    /// The same model (sharing its weights) with another decoder. The copy does not own the weights: dispose the original,
    /// and use the copy only while the original is alive.
    /// </summary>
    /// <param name="decoder">Greedy or prefix beam search.</param>
    /// <param name="beamWidth">Prefixes kept by beam search, &gt; 0 (default 8).</param>
    public SpeechRecognitionTransformer WithDecoder(CtcDecoder decoder, int beamWidth = SpeechRecognizerOptions.Defaults.BeamWidth)
        => new(Environment, Model, CharacterSet, _features, AudioColumnName, OutputColumnName, Guard.Defined(decoder), Guard.Positive(beamWidth), History, ownsModel: false)
        {
            NumberOfThreads = NumberOfThreads,
        };

    /// <summary>
    /// The same model (sharing its weights) decoding with prefix beam search biased by a word list (see
    /// <see cref="SpeechRecognizerOptions.WordList"/>), or with <paramref name="wordList"/> null, without one. The copy does not own
    /// the weights: dispose the original, and use the copy only while the original is alive. Saving the copy saves its decoder.
    /// </summary>
    /// <param name="decoder"><see cref="CtcDecoder.PrefixBeamSearch"/> when <paramref name="wordList"/> is given.</param>
    /// <param name="beamWidth">Prefixes kept by beam search, &gt; 0.</param>
    /// <param name="wordList">Words spelled with <see cref="Vocabulary"/>'s characters, without white space; null for none.</param>
    /// <param name="outOfListWordPenalty">Log-probability charged per unlisted word, ≥ 0 (default +∞: only listed words).</param>
    /// <exception cref="ArgumentException">A word is empty, holds white space or a character outside the vocabulary (named), the list is empty, the penalty is negative or NaN, or the decoder is greedy with a word list.</exception>
    public SpeechRecognitionTransformer WithDecoder(CtcDecoder decoder, int beamWidth, IReadOnlyList<string>? wordList, double outOfListWordPenalty = double.PositiveInfinity)
        => new(Environment, Model, CharacterSet, _features, AudioColumnName, OutputColumnName, Guard.Defined(decoder), Guard.Positive(beamWidth), History, ownsModel: false,
            wordList, outOfListWordPenalty)
        {
            NumberOfThreads = NumberOfThreads,
        };

    /// <summary>The transcript of one utterance (mono samples at <see cref="AudioFeatureOptions.SampleRate"/>).</summary>
    public string Transcribe(float[] samples) => Transcribe(new[] { Guard.NotNull(samples) })[0];

    /// <summary>Transcripts of many utterances, computed in batches of 32 (each equals what the utterance gives alone).</summary>
    /// <exception cref="ArgumentException">An utterance is null, empty or holds a non-finite sample; the message gives its index.</exception>
    public IReadOnlyList<string> Transcribe(IReadOnlyList<float[]> utterances)
    {
        Guard.NotNull(utterances);
        for (var i = 0; i < utterances.Count; i++)
        {
            if (utterances[i] is not { Length: > 0 } u)
                throw new ArgumentException($"Utterance {i} has no samples; expected at least one sample of mono audio.", nameof(utterances));
            if (u.Any(s => !float.IsFinite(s)))
                throw new ArgumentException($"Utterance {i} holds a non-finite sample; expected finite samples.", nameof(utterances));
        }
        var result = new string[utterances.Count];
        using var threads = TorchThreads.Use(_numberOfThreads);
        using var bank = new FeatureBank(_features, Model.Device);
        for (var start = 0; start < utterances.Count; start += TranscriptionBatchSize)
        {
            var count = Math.Min(TranscriptionBatchSize, utterances.Count - start);
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var (features, frames) = bank.Batch(Enumerable.Range(start, count).Select(i => utterances[i]).ToArray());
            var logProbabilities = Model.Module.forward(features).log_softmax(2).to(CPU).contiguous();
            var steps = (int)logProbabilities.shape[1];
            var classes = (int)logProbabilities.shape[2];
            var scores = HostCopy.ToArray<float>(logProbabilities);
            for (var i = 0; i < count; i++)
            {
                var span = scores.AsSpan(i * steps * classes, steps * classes);
                var length = (int)OutputFrames(frames[i]);
                var ids = Decoder == CtcDecoder.Greedy ? CtcDecoding.Greedy(span, length, classes) : CtcDecoding.PrefixBeamSearch(span, length, classes, BeamWidth, _wordList);
                result[start + i] = CharacterSet.Decode(ids);
            }
        }
        return result;
    }

    /// <summary>WER, CER and accuracies of the model's transcripts of <paramref name="data"/> against its transcript column.</summary>
    /// <param name="data">Rows with the audio column and a transcript column.</param>
    /// <param name="transcriptColumnName">Reference transcript column (String), default <c>Transcript</c>.</param>
    public SpeechRecognitionMetrics Evaluate(IDataView data, string transcriptColumnName = SpeechRecognizerOptions.Defaults.TranscriptColumnName)
    {
        Guard.NotNull(data);
        Guard.NotEmpty(transcriptColumnName);
        AudioColumn.Check(data.Schema, AudioColumnName);
        var transcript = SchemaChecks.Find(data.Schema, "transcript", transcriptColumnName);
        if (transcript.Type is not TextDataViewType)
            throw SchemaChecks.Mismatch("transcript", transcriptColumnName, "String", transcript.Type);
        var rows = SpeechRecognitionTask.ReadRows(data, AudioColumnName, transcriptColumnName, null, "evaluation", default).ToList();
        var hypotheses = Transcribe(rows.Select(r => r.Samples).ToArray());
        return SpeechRecognitionMetrics.From(rows.Select((r, i) => (CharacterVocabulary.Normalize(r.Transcript), hypotheses[i])));
    }

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => SpeechInterop.OutputSchema(this, Guard.NotNull(inputSchema));

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => SpeechInterop.RowToRowMapper(this, Guard.NotNull(inputSchema));

    /// <summary>
    /// The input with the transcript column. Rows are scored through the core's <see cref="BatchedDataView"/>: each row's
    /// samples are read (and checked) as the row is read, and <see cref="TranscriptionBatchSize"/> utterances are transcribed
    /// together by <see cref="Transcribe(IReadOnlyList{float[]})"/> (one padded forward pass; features per utterance, packed or
    /// masked encoders, so each transcript equals the utterance's alone).
    /// </summary>
    public IDataView Transform(IDataView input)
    {
        Guard.NotNull(input);
        GetOutputSchema(input.Schema); // schema errors here, not at the first cursor
        return new BatchedDataView(new ColumnBatchScorer<float[], string, ReadOnlyMemory<char>>(TranscriptionBatchSize, AudioColumnName,
            $"audio column '{AudioColumnName}'", OutputColumnName, GetOutputSchema,
            row =>
            {
                var samples = AudioColumn.Getter(row, row.Schema[AudioColumnName]);
                return () => samples(row.Position, "scored");
            },
            (utterances, _) => Transcribe(utterances),
            (string transcript, ref ReadOnlyMemory<char> value) => value = transcript.AsMemory()), input);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => SpeechRecognizerFormat.Save(ctx, this);

    /// <summary>Frees the network (unless this is a <c>WithDecoder</c> copy).</summary>
    public void Dispose()
    {
        if (_ownsModel)
            Model.Dispose();
    }
}

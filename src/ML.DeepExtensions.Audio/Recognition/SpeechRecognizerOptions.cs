using System;
using System.Collections.Generic;
using System.Linq;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// Options of <c>mlContext.SpeechRecognition().Trainers.SpeechRecognizer</c>: a CTC speech recogniser over a character
/// vocabulary with a DeepSpeech2-style, QuartzNet or Conformer encoder (<see cref="Architecture"/>), reading mono audio samples (a vector of Single, e.g. from
/// <c>mlContext.Transforms.LoadAudio</c>) and a transcript (String), plus every setting of the training engine (epochs,
/// batch, optimizer, learning rate and schedule, validation, early stopping on <c>ValidationWordErrorRate</c>,
/// checkpoints, progress, cancellation). Rows are held in memory as features.
/// </summary>
public sealed class SpeechRecognizerOptions : TrainerOptions
{
    /// <summary>Default values, shared by the options and the short catalog overload.</summary>
    public static new class Defaults
    {
        /// <summary>Audio column (<c>Audio</c>).</summary>
        public const string AudioColumnName = "Audio";
        /// <summary>Transcript column (<c>Transcript</c>).</summary>
        public const string TranscriptColumnName = "Transcript";
        /// <summary>Output column (<c>PredictedTranscript</c>).</summary>
        public const string OutputColumnName = "PredictedTranscript";
        /// <summary>Passes over the data (40).</summary>
        public const int Epochs = 40;
        /// <summary>Beam width of prefix beam search (8).</summary>
        public const int BeamWidth = 8;
    }

    /// <summary>Creates options with the recogniser's engine defaults, the measured configuration of docs/speech.md: 40 epochs,
    /// batch 16, learning rate 3e−3 (Adam), gradient clipping at 5, no weight decay.</summary>
    public SpeechRecognizerOptions()
    {
        Epochs = Defaults.Epochs;
        BatchSize = 16;
        LearningRate = 3e-3;
        GradientClipNorm = 5;
        WeightDecay = 0;
    }

    /// <summary>Audio column: mono samples at <see cref="AudioFeatureOptions.SampleRate"/> as a vector of Single (variable or known size) (default <c>Audio</c>).</summary>
    public string AudioColumnName { get; set; } = Defaults.AudioColumnName;

    /// <summary>Transcript column (String), training and validation only (default <c>Transcript</c>). Must not be empty.</summary>
    public string TranscriptColumnName { get; set; } = Defaults.TranscriptColumnName;

    /// <summary>The predicted transcript column (String) the fitted model adds (default <c>PredictedTranscript</c>).</summary>
    public string OutputColumnName { get; set; } = Defaults.OutputColumnName;

    /// <summary>
    /// The characters the model can output, or null to take the distinct characters of the training transcripts
    /// (default null). With a vocabulary, a transcript holding another character is an error naming the row.
    /// </summary>
    public string? Vocabulary { get; set; }

    /// <summary>Feature extraction (sample rate, FFT, hop, mel bins, scale, log-mel or MFCC, normalisation).</summary>
    public AudioFeatureOptions Features { get; set; } = new();

    /// <summary>Which acoustic encoder the recogniser trains (default <see cref="SpeechEncoder.DeepSpeech2"/>); its size is set by
    /// <see cref="Encoder"/>, <see cref="QuartzNet"/> or <see cref="Conformer"/>.</summary>
    public SpeechEncoder Architecture { get; set; } = SpeechEncoder.DeepSpeech2;

    /// <summary>The DeepSpeech2-style encoder's size and its SpecAugment masks (used when <see cref="Architecture"/> is <see cref="SpeechEncoder.DeepSpeech2"/>).</summary>
    public DeepSpeech2Parameters Encoder { get; set; } = new();

    /// <summary>The QuartzNet encoder's B×R blocks, widths, kernels and SpecAugment masks (used when <see cref="Architecture"/> is <see cref="SpeechEncoder.QuartzNet"/>).</summary>
    public QuartzNetParameters QuartzNet { get; set; } = new();

    /// <summary>The Conformer encoder's blocks, width, heads, kernels and SpecAugment masks (used when <see cref="Architecture"/> is <see cref="SpeechEncoder.Conformer"/>).</summary>
    public ConformerParameters Conformer { get; set; } = new();

    /// <summary>Decoding used by the fitted model (default <see cref="CtcDecoder.Greedy"/>; validation metrics always decode greedily).</summary>
    public CtcDecoder Decoder { get; set; } = CtcDecoder.Greedy;

    /// <summary>Prefixes kept by <see cref="CtcDecoder.PrefixBeamSearch"/>, &gt; 0 (default 8).</summary>
    public int BeamWidth { get; set; } = Defaults.BeamWidth;

    /// <summary>
    /// Words the beam search may output (default null: no word list). With a list, <see cref="Decoder"/> must be
    /// <see cref="CtcDecoder.PrefixBeamSearch"/>; words are compared exactly (case and accents count), must be spelled with the
    /// vocabulary's characters and hold no white space; repeats are ignored. The space separates words. By default
    /// (<see cref="OutOfListWordPenalty"/> = +∞) the output is only listed words — a misspelling the network prefers becomes
    /// the listed word the frames support best; with a finite penalty, unlisted words stay possible at that cost. Only the
    /// fitted model's decoding uses it (validation metrics decode greedily); it is saved with the model. Change it after
    /// training with <see cref="SpeechRecognitionTransformer.WithDecoder(CtcDecoder, int, IReadOnlyList{string}?, double)"/>.
    /// </summary>
    public IReadOnlyList<string>? WordList { get; set; }

    /// <summary>
    /// Log-probability (natural log) the word-list beam search subtracts for each output word that is not in
    /// <see cref="WordList"/>, ≥ 0 (default +∞: only listed words). It is charged as soon as the word being spelled stops being
    /// the start of a listed word (or when it ends as an unlisted start of one), so the listed spelling can still win the beam.
    /// 0 equals the unbiased beam search. Ignored without a word list.
    /// </summary>
    public double OutOfListWordPenalty { get; set; } = double.PositiveInfinity;

    /// <summary>Whether training batches group utterances of similar length (default true; see <see cref="TrainerOptions"/> and the architecture notes).</summary>
    public bool LengthBucketing { get; set; } = true;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Guard.NotEmpty(AudioColumnName);
        Guard.NotEmpty(TranscriptColumnName);
        Guard.NotEmpty(OutputColumnName);
        Guard.NotNull(Features).Validate();
        Guard.Defined(Architecture);
        switch (Architecture)
        {
            case SpeechEncoder.QuartzNet:
                Guard.NotNull(QuartzNet).Validate();
                break;
            case SpeechEncoder.Conformer:
                Guard.NotNull(Conformer).Validate();
                break;
            default:
                var e = Guard.NotNull(Encoder);
                Guard.Positive(e.Channels, "Encoder.Channels");
                Guard.Positive(e.HiddenSize, "Encoder.HiddenSize");
                Guard.Positive(e.RecurrentLayers, "Encoder.RecurrentLayers");
                Guard.InRange(e.Dropout, 0, 1, name: "Encoder.Dropout");
                e.ValidateSpecAugment("Encoder");
                break;
        }
        Guard.Defined(Decoder);
        Guard.Positive(BeamWidth);
        if (Vocabulary is not null)
        {
            if (Vocabulary.Length == 0)
                throw new ArgumentException("Vocabulary must hold at least one character, or be null to take the training transcripts' characters. Received: Vocabulary=\"\"", nameof(Vocabulary));
            _ = new CharacterVocabulary(Vocabulary);
        }
        if (WordList is not null)
        {
            if (Decoder != CtcDecoder.PrefixBeamSearch)
                throw new ArgumentException($"WordList is used by the prefix beam search; expected Decoder = PrefixBeamSearch with a word list. Received: Decoder={Decoder}", nameof(WordList));
            CheckWordList(WordList, OutOfListWordPenalty);
            if (Vocabulary is not null)
                _ = CtcWordList.From(WordList, new CharacterVocabulary(Vocabulary), OutOfListWordPenalty);
        }
    }

    /// <summary>The checks of a word list that need no vocabulary: at least one word, no empty word or white space, a penalty ≥ 0.</summary>
    internal static void CheckWordList(IReadOnlyList<string> words, double outOfListWordPenalty)
    {
        if (words.Count == 0)
            throw new ArgumentException("WordList must hold at least one word, or be null for no word list. Received: WordList with 0 words", nameof(WordList));
        for (var i = 0; i < words.Count; i++)
        {
            if (string.IsNullOrEmpty(words[i]) || words[i].Any(char.IsWhiteSpace))
                throw new ArgumentException($"WordList words must be non-empty and hold no white space (the space separates words). Received: WordList[{i}]={(words[i] is null ? "null" : "\"" + words[i] + "\"")}", nameof(WordList));
        }
        if (double.IsNaN(outOfListWordPenalty) || outOfListWordPenalty < 0)
            throw new ArgumentOutOfRangeException(nameof(OutOfListWordPenalty), $"OutOfListWordPenalty must be ≥ 0 (+∞ keeps only listed words, 0 is the unbiased beam). Received: OutOfListWordPenalty={outOfListWordPenalty}");
    }
}

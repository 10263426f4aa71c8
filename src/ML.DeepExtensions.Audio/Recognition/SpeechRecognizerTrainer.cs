using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Tasks;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// Trains a CTC speech recogniser (see <see cref="SpeechRecognizerOptions"/>): audio samples + transcript →
/// <see cref="SpeechRecognitionTransformer"/>, on the library's one fitting pipeline (seed and device from the
/// <c>MLContext</c>, validation, early stopping, checkpoints, progress).
/// </summary>
public sealed class SpeechRecognizerTrainer : IEstimator<SpeechRecognitionTransformer>
{
    private readonly IHost _host;

    internal SpeechRecognizerTrainer(IHostEnvironment env, SpeechRecognizerOptions options)
    {
        Guard.NotNull(env);
        Options = Guard.NotNull(options);
        options.Validate();
        _host = env.Register(nameof(SpeechRecognizerTrainer));
    }

    /// <summary>The options this trainer was created with.</summary>
    public SpeechRecognizerOptions Options { get; }

    /// <inheritdoc />
    public SpeechRecognitionTransformer Fit(IDataView input)
    {
        Guard.NotNull(input);
        var options = Options;
        // The vocabulary decides the output layer, so it is known before the network is planned: the option, or the
        // characters of every training transcript (a pass over the transcript column only).
        SpeechRecognitionTask.CheckColumns(input.Schema, options);
        CharacterVocabulary vocabulary;
        if (options.Vocabulary is { } characters)
        {
            vocabulary = new CharacterVocabulary(characters);
        }
        else
        {
            var column = input.Schema[options.TranscriptColumnName];
            vocabulary = CharacterVocabulary.From(input.GetColumn<string>(column).Select(t => t ?? ""));
            if (vocabulary.Characters.Length == 0)
                new SpeechRecognitionTask(options, vocabulary).Read(input, null, "training", options); // names the empty row
        }
        // A word the vocabulary cannot spell is an error before training, not after it.
        if (options.WordList is { } words)
            _ = CtcWordList.From(words, vocabulary, options.OutOfListWordPenalty);
        var fitted = FittingPipeline.Fit(_host, options, new SpeechRecognitionTask(options, vocabulary), input, options.ValidationSet, pretrained: null);
        return new SpeechRecognitionTransformer(_host, fitted.Model, vocabulary, options.Features, options.AudioColumnName, options.OutputColumnName,
            options.Decoder, options.BeamWidth, fitted.History, ownsModel: true, options.WordList, options.OutOfListWordPenalty) { NumberOfThreads = options.NumberOfThreads };
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => SpeechRecognitionTask.OutputSchema(Guard.NotNull(inputSchema), Options);
}

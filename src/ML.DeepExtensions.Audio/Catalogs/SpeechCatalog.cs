using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Audio.Interop;

namespace ML.DeepExtensions.Audio;

/// <summary>Speech recognition: trainers and the WER/CER evaluator (<c>mlContext.SpeechRecognition()</c>).</summary>
public sealed class SpeechRecognitionCatalog
{
    internal SpeechRecognitionCatalog(IHostEnvironment env)
    {
        Trainers = new SpeechRecognitionTrainers(env);
    }

    /// <summary>The speech-recognition trainers.</summary>
    public SpeechRecognitionTrainers Trainers { get; }

    /// <summary>WER, CER, word and sentence accuracy of a predicted transcript column against a reference column, over every row.</summary>
    /// <param name="data">Scored data (e.g. <c>model.Transform(test)</c>).</param>
    /// <param name="labelColumnName">Reference transcript column (String), default <c>Transcript</c>.</param>
    /// <param name="predictedColumnName">Predicted transcript column (String), default <c>PredictedTranscript</c>.</param>
    public SpeechRecognitionMetrics Evaluate(IDataView data, string labelColumnName = SpeechRecognizerOptions.Defaults.TranscriptColumnName,
        string predictedColumnName = SpeechRecognizerOptions.Defaults.OutputColumnName)
    {
        Guard.NotNull(data);
        foreach (var (role, name) in new[] { ("transcript", labelColumnName), ("predicted transcript", predictedColumnName) })
        {
            var column = SchemaChecks.Find(data.Schema, role, name);
            if (column.Type is not Microsoft.ML.Data.TextDataViewType)
                throw SchemaChecks.Mismatch(role, name, "String", column.Type);
        }
        var references = data.GetColumn<string>(labelColumnName);
        var hypotheses = data.GetColumn<string>(predictedColumnName);
        return SpeechRecognitionMetrics.From(System.Linq.Enumerable.Zip(references, hypotheses, (r, h) => (r ?? "", h ?? "")));
    }
}

/// <summary>Speech-recognition trainers (<c>mlContext.SpeechRecognition().Trainers</c>).</summary>
public sealed class SpeechRecognitionTrainers
{
    private readonly IHostEnvironment _env;

    internal SpeechRecognitionTrainers(IHostEnvironment env) => _env = env;

    /// <summary>A CTC speech recogniser over a character vocabulary with the default DeepSpeech2-style encoder (QuartzNet and Conformer through the options overload).</summary>
    /// <param name="audioColumnName">Mono samples (vector of Single at 16 kHz), default <c>Audio</c>.</param>
    /// <param name="transcriptColumnName">Transcript (String), default <c>Transcript</c>.</param>
    /// <param name="outputColumnName">Predicted transcript column, default <c>PredictedTranscript</c>.</param>
    /// <param name="epochs">Passes over the data (default 40).</param>
    public SpeechRecognizerTrainer SpeechRecognizer(string audioColumnName = SpeechRecognizerOptions.Defaults.AudioColumnName,
        string transcriptColumnName = SpeechRecognizerOptions.Defaults.TranscriptColumnName,
        string outputColumnName = SpeechRecognizerOptions.Defaults.OutputColumnName, int epochs = SpeechRecognizerOptions.Defaults.Epochs)
        => SpeechRecognizer(new SpeechRecognizerOptions
        {
            AudioColumnName = audioColumnName,
            TranscriptColumnName = transcriptColumnName,
            OutputColumnName = outputColumnName,
            Epochs = epochs,
        });

    /// <summary>A CTC speech recogniser, with every option.</summary>
    public SpeechRecognizerTrainer SpeechRecognizer(SpeechRecognizerOptions options) => new(_env, Guard.NotNull(options));
}

using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Training;

namespace SpamClassification;

/// <summary>Training, Model Builder style: the data, the trainer and the training call, with nothing else mixed in.</summary>
public static partial class SpamClassifier
{
    /// <summary>The committed SpamAssassin subset copied next to the program (see the project file).</summary>
    public static string SubsetFile => Path.Combine(AppContext.BaseDirectory, "data", "spam-assassin-subset.jsonl");

    /// <summary>The whole corpus fetched by <c>eng/data/fetch-spam-assassin.sh</c> into the data cache.</summary>
    public static string FullCorpusFile()
    {
        var cache = Environment.GetEnvironmentVariable("MLDX_DATA_CACHE")
            ?? Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "ml-deepextensions");
        var file = Path.Combine(cache, "spam-assassin", "full.jsonl");
        return File.Exists(file) ? file
            : throw new FileNotFoundException($"The full SpamAssassin corpus is not in '{file}': run eng/data/fetch-spam-assassin.sh first.", file);
    }

    /// <summary>One JSON line per e-mail.</summary>
    public static ModelInput[] LoadEmails(string file)
        => File.ReadLines(file).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<ModelInput>(l)!).ToArray();

    /// <summary>
    /// The text column is tokenized inside the trainer with a word vocabulary learned from the training e-mails; a small
    /// BERT-style Transformer encoder (mean pooling; or a bidirectional LSTM with max pooling) reads the first 64 words.
    /// Small on purpose: it trains in about a minute on two CPU cores.
    /// </summary>
    public static NeuralTextBinaryOptions Options(bool lstm, TrainingCallback? callback = null) => new()
    {
        TextColumnName = nameof(ModelInput.Text),
        LabelColumnName = nameof(ModelInput.Label),
        Network = lstm ? TextEncoder.Lstm(hiddenSize: 32, pooling: TextPooling.Max) : TextEncoder.Transformer(layers: 1, heads: 2, pooling: TextPooling.Mean),
        EmbeddingDimensions = 32,
        MaxLength = 64,
        Epochs = 6,
        LearningRate = 3e-3,
        ValidationFraction = 0.1,
        EarlyStopping = new EarlyStopping("ValidationLoss", patience: 2, restoreBestWeights: true),
        Callback = callback,
    };

    /// <summary>The trainer (tokenizer + network in one estimator).</summary>
    public static IEstimator<TransformerChain<NeuralNetworkTransformer>> BuildPipeline(MLContext mlContext, bool lstm, TrainingCallback? callback = null)
        => mlContext.BinaryClassification.Trainers.NeuralTextClassifier(Options(lstm, callback));

    /// <summary>Fits the pipeline on <paramref name="trainingData"/>.</summary>
    public static TransformerChain<NeuralNetworkTransformer> Train(MLContext mlContext, IDataView trainingData, bool lstm, TrainingCallback? callback = null)
        => BuildPipeline(mlContext, lstm, callback).Fit(trainingData);
}

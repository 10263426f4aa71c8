using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Text.Pretrained;
using ML.DeepExtensions.Training;

namespace BertClassification;

/// <summary>Training, Model Builder style: the data, the pipelines and the training calls, with nothing else mixed in.</summary>
public static partial class BertSpamClassifier
{
    /// <summary>The committed SpamAssassin subset copied next to the program (see the project file).</summary>
    public static string DataFile => Path.Combine(AppContext.BaseDirectory, "data", "spam-assassin-subset.jsonl");

    /// <summary>One JSON line per e-mail.</summary>
    public static ModelInput[] LoadEmails()
        => File.ReadLines(DataFile).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<ModelInput>(l)!).ToArray();

    /// <summary>
    /// Fine-tuning: the trainer tokenizes with the encoder's own WordPiece vocabulary (first 128 pieces), starts from its
    /// weights and adds a fresh output layer.
    /// </summary>
    public static IEstimator<TransformerChain<NeuralNetworkTransformer>> BuildPipeline(MLContext mlContext, PretrainedBert bert, TrainingCallback? callback = null)
        => mlContext.BinaryClassification.Trainers.NeuralTextClassifier(new NeuralTextBinaryOptions
        {
            TextColumnName = nameof(ModelInput.Text),
            LabelColumnName = nameof(ModelInput.Label),
            Network = TextEncoder.PretrainedBert(bert),
            MaxLength = 128,
            Epochs = 3,
            BatchSize = 16,
            LearningRate = 1e-4,
            Callback = callback,
        });

    /// <summary>Fits the fine-tuning pipeline on <paramref name="trainingData"/>.</summary>
    public static TransformerChain<NeuralNetworkTransformer> Train(MLContext mlContext, IDataView trainingData, PretrainedBert bert, TrainingCallback? callback = null)
        => BuildPipeline(mlContext, bert, callback).Fit(trainingData);

    /// <summary>
    /// The cheaper route without fine-tuning: sentence embeddings (mean pooling + L2 norm) as Features for ML.NET's SDCA
    /// logistic regression. The trainer reads its input many times, so each e-mail is encoded once into a cache.
    /// </summary>
    public static IEstimator<ITransformer> BuildEmbeddingPipeline(MLContext mlContext, PretrainedBert bert)
        => mlContext.Transforms.Text.EmbedSentences(bert, "Features", nameof(ModelInput.Text), maxLength: 128)
            .AppendCacheCheckpoint(mlContext)
            .Append(mlContext.BinaryClassification.Trainers.SdcaLogisticRegression(nameof(ModelInput.Label), "Features"));
}

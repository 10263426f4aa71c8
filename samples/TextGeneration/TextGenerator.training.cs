using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Text;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Training;

namespace TextGeneration;

/// <summary>Training, Model Builder style: the data, the pipeline and the training call, with nothing else mixed in.</summary>
public static partial class TextGenerator
{
    /// <summary>The fortunes subset copied next to the program (see the project file): one quotation per row.</summary>
    public static string DataFile => Path.Combine(AppContext.BaseDirectory, "data", "fortunes.tsv");

    /// <summary>Every quotation of the data file (its second column); every tenth is held out for testing.</summary>
    public static (ModelInput[] Train, ModelInput[] Test) LoadQuotations()
    {
        var quotations = File.ReadLines(DataFile).Skip(1).Select(line => new ModelInput { Text = line[(line.IndexOf('\t') + 1)..] }).ToArray();
        return (quotations.Where((_, i) => i % 10 != 0).ToArray(), quotations.Where((_, i) => i % 10 == 0).ToArray());
    }

    /// <summary>Text → word ids (vocabulary learned from the training texts) → decoder-only Transformer.</summary>
    public static EstimatorChain<LanguageModelTransformer> BuildPipeline(MLContext mlContext, int epochs, TrainingCallback? callback = null)
    {
        var options = new LanguageModelOptions
        {
            TokenColumnName = "Tokens",
            Dimensions = 64,
            Layers = 2,
            Heads = 4,
            Dropout = 0.1,
            Epochs = epochs,
            BatchSize = 32,
            Optimizer = OptimizerKind.AdamW,
            LearningRate = 3e-3,
            Schedule = LearningRateSchedule.Cosine(),
            GradientClipNorm = 1.0,
            ValidationFraction = 0.1,
            EarlyStopping = new EarlyStopping("ValidationLoss", patience: 3, restoreBestWeights: true),
            Generation = new GenerationOptions { Temperature = 0.8, TopK = 40, MaxNewTokens = 30, Seed = 7 },
            Callback = callback,
        };
        return mlContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Tokens", nameof(ModelInput.Text), maxVocabularySize: 2000, minFrequency: 2, maxLength: 32)
            .Append(mlContext.Transforms.Text.TrainLanguageModel(options));
    }

    /// <summary>Fits the pipeline on <paramref name="trainingData"/>.</summary>
    public static TransformerChain<LanguageModelTransformer> Train(MLContext mlContext, IDataView trainingData, int epochs, TrainingCallback? callback = null)
        => BuildPipeline(mlContext, epochs, callback).Fit(trainingData);
}

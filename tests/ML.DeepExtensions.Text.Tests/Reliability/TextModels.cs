using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Tests.Generation;
using ML.DeepExtensions.Text.Tokenization;

namespace ML.DeepExtensions.Text.Tests.Reliability;

/// <summary>
/// A WordPiece tokenizer (its vocabulary file travels in the zip as a binary stream) and a tiny language model (with its
/// word-vocabulary tokenizer nested inside), each fitted once and saved once; tests copy the zips and damage the copies.
/// </summary>
public sealed class TextModels : IDisposable
{
    public static readonly string[] Prompts = ["the computer", "never trust a"];

    public TextModels()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("mldx-text-reliability-").FullName;
        MLContext = new MLContext(seed: 1);
        Sentences = TestData.Sentences.Take(40).ToArray();
        var data = TestData.Texts(MLContext, Sentences);

        var vocabulary = Path.Combine(Directory, "vocab.txt");
        File.WriteAllLines(vocabulary, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "of", "to", "is", "you", "##s", "##ing", "computer", ".", "and", "in", "it", "##ed", "be"]);
        Tokenizer = MLContext.Transforms.Text.TokenizeToIdsWithWordPiece("Ids", vocabulary, "Text", 24).Fit(data);
        TokenizerZip = Path.Combine(Directory, "tokenizer.zip");
        MLContext.Model.Save(Tokenizer, data.Schema, TokenizerZip);

        var texts = TestData.Texts(MLContext, Fortunes.Training.Take(300));
        var chain = MLContext.Transforms.Text.TokenizeToIdsWithWordVocabulary("Tokens", "Text", maxVocabularySize: 200, maxLength: 12)
            .Append(MLContext.Transforms.Text.TrainLanguageModel(new LanguageModelOptions
            {
                Dimensions = 16, Layers = 1, Heads = 2, Epochs = 1, BatchSize = 32,
                Generation = new GenerationOptions { MaxNewTokens = 6, Temperature = 0 },
            }))
            .Fit(texts);
        LanguageModel = chain.LastTransformer;
        LanguageModelZip = Path.Combine(Directory, "language-model.zip");
        MLContext.Model.Save(LanguageModel, texts.Schema, LanguageModelZip);
    }

    public string Directory { get; }

    public MLContext MLContext { get; }

    public string[] Sentences { get; }

    public TokenizingTransformer Tokenizer { get; }

    public string TokenizerZip { get; }

    public LanguageModelTransformer LanguageModel { get; }

    public string LanguageModelZip { get; }

    /// <summary>A fresh copy of <paramref name="zip"/>.</summary>
    public string Copy(string zip, string name)
    {
        var path = Path.Combine(Directory, name + ".zip");
        File.Copy(zip, path, overwrite: true);
        return path;
    }

    /// <summary>The tokenizer's ids for <see cref="Sentences"/> as bytes.</summary>
    public byte[] TokenizerOutputs(ITransformer tokenizer)
        => TestData.Ids(tokenizer.Transform(TestData.Texts(new MLContext(), Sentences)), "Ids").SelectMany(r => r).SelectMany(BitConverter.GetBytes).ToArray();

    /// <summary>Next-token log-probabilities after <see cref="Prompts"/> and the continuation <c>Transform</c> gives for them, as bytes.</summary>
    public static byte[] LanguageModelOutputs(LanguageModelTransformer model)
    {
        var logProbabilities = Prompts.SelectMany(model.NextTokenLogProbabilities).SelectMany(BitConverter.GetBytes);
        var scored = model.Transform(TestData.Texts(new MLContext(), Prompts));
        var text = string.Join("\n", scored.GetColumn<string>(model.OutputColumnName));
        return logProbabilities.Concat(System.Text.Encoding.UTF8.GetBytes(text)).ToArray();
    }

    public void Dispose()
    {
        LanguageModel.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text.Classification;
using ML.DeepExtensions.Text.Tokenization;

namespace ML.DeepExtensions.Text.Pretrained;

/// <summary>
/// <c>mlContext.Transforms.Text.EmbedSentences(bert)</c>: sentence embeddings as sentence-transformers computes them — WordPiece
/// tokens, the pretrained encoder, the mean of the token embeddings over the real tokens, scaled to unit L2 norm — in a vector
/// of Single of the encoder's hidden size (384 for all-MiniLM-L6-v2), usable by any ML.NET trainer or for cosine similarity
/// (a dot product, since the vectors have unit length). Fitting learns nothing: it checks the text column and returns the
/// chain tokenizer → encoder, which saves in one ML.NET zip (vocabulary, architecture and weights; no ONNX file needed at load).
/// </summary>
public sealed class SentenceEmbeddingEstimator : IEstimator<TransformerChain<NeuralNetworkTransformer>>
{
    private readonly IHostEnvironment _env;
    private readonly PretrainedBert _bert;
    private readonly int _maxLength;
    private readonly int _batchSize;

    internal SentenceEmbeddingEstimator(IHostEnvironment env, PretrainedBert bert, string outputColumnName, string inputColumnName, int maxLength, int batchSize)
    {
        _env = env;
        _bert = Guard.NotNull(bert);
        OutputColumnName = Guard.NotEmpty(outputColumnName);
        InputColumnName = Guard.NotEmpty(inputColumnName);
        _maxLength = Guard.Positive(maxLength);
        if (maxLength > bert.MaxPositions)
            throw new System.ArgumentOutOfRangeException(nameof(maxLength), maxLength,
                $"maxLength must be at most {bert.MaxPositions}, the positions {bert.Name} has learned ([CLS] and [SEP] included). Received: maxLength={maxLength}");
        _batchSize = Guard.Positive(batchSize);
    }

    /// <summary>The text column (String).</summary>
    public string InputColumnName { get; }

    /// <summary>The added embedding column (vector of Single).</summary>
    public string OutputColumnName { get; }

    /// <summary>The WordPiece id column the chain adds on the way: <c>{input}.WordPieces</c>.</summary>
    public string TokenColumnName => InputColumnName + ".WordPieces";

    /// <inheritdoc />
    public TransformerChain<NeuralNetworkTransformer> Fit(IDataView input)
    {
        Guard.NotNull(input);
        TextColumn.Check(input.Schema, InputColumnName);
        var tokenizer = _bert.CreateTokenizer(_env, InputColumnName, TokenColumnName, _maxLength).Fit(input);
        var parameters = ArchitectureParameters.From(TextBertEncoderParameters.From(_bert, TextPooling.Mean, normalize: true, dropout: 0)).Values;
        var network = Network.Create().Architecture(TextArchitectures.BertEncoder, parameters);
        var device = Devices.Select(HostSettings.Read(_env), null);
        var model = NetworkModel.Build(network, [_maxLength], seed: 0, device);
        try
        {
            _bert.Weights.Apply(model.Module, headTensors: 0);
            var head = new ScoringHead(NetworkTask.FeatureExtraction, model.OutputSize, null, new OutputColumnNames(Features: OutputColumnName));
            var encoder = new NeuralNetworkTransformer(model, head, TokenColumnName, [], _batchSize);
            return new TransformerChain<NeuralNetworkTransformer>(new ITransformer[] { tokenizer, encoder });
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Guard.NotNull(inputSchema);
        TextColumn.Check(inputSchema, InputColumnName);
        var columns = inputSchema.ToDictionary(c => c.Name);
        columns[TokenColumnName] = MLNetInternals.Column(TokenColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Int32, false);
        columns[OutputColumnName] = MLNetInternals.Column(OutputColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(columns.Values);
    }
}

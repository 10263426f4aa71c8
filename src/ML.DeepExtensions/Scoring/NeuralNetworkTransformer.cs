using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// A fitted network on a feature-vector column. <see cref="Transform"/> scores in batches inside the cursor
/// (one forward pass per <see cref="ScoringBatchSize"/> rows); <c>PredictionEngine</c> scores row by row.
/// Saved with <c>mlContext.Model.Save</c> (network description + weights) and loaded back as this type with
/// <c>mlContext.Model.Load</c>, in any process.
/// </summary>
public sealed class NeuralNetworkTransformer : ISingleFeaturePredictionTransformer<NeuralNetworkTransformer>, ISingleFeaturePredictionTransformer, ITrainedNetworkTransformer, IDisposable
{
    private readonly NetworkModel _model;
    private readonly ScoringHead _head;

    internal NeuralNetworkTransformer(NetworkModel model, ScoringHead head, string featureColumnName, IReadOnlyList<EpochMetrics> history, int scoringBatchSize)
    {
        _model = model;
        _head = head;
        FeatureColumnName = featureColumnName;
        History = history;
        ScoringBatchSize = scoringBatchSize;
    }

    /// <summary>What the network predicts.</summary>
    public NetworkTask Kind => _head.Kind;

    /// <summary>The input column: a known-size numeric vector of length <see cref="FeatureSize"/>.</summary>
    public string FeatureColumnName { get; }

    /// <summary>The feature column's type as the network reads it: a vector of <see cref="FeatureSize"/> Single values.</summary>
    public DataViewType FeatureColumnType => new VectorDataViewType(NumberDataViewType.Single, FeatureSize);

    /// <summary>
    /// This transformer: it is its own model (network, weights and scoring head). Implemented so ML.NET's tools that take
    /// a prediction transformer — <c>PermutationFeatureImportance</c>, <c>CrossValidate</c> — accept it.
    /// </summary>
    NeuralNetworkTransformer IPredictionTransformer<NeuralNetworkTransformer>.Model => this;

    /// <summary>Values per example.</summary>
    public int FeatureSize => _model.FeatureSize;

    /// <summary>The shape the network sees each feature vector as, e.g. <c>(1, 28, 28)</c>.</summary>
    public IReadOnlyList<int> InputShape => _model.InputShape;

    /// <summary>The whole network, including the output layer the trainer appended.</summary>
    public Network Network => _model.Network;

    /// <summary>Names of the added columns.</summary>
    public OutputColumnNames OutputColumns => _head.Names;

    /// <summary>Class names (the label's key values) for multiclass models, else null.</summary>
    public IReadOnlyList<string>? ClassNames => _head.ClassNames;

    /// <summary>Metrics of every training epoch (kept in the model zip).</summary>
    public IReadOnlyList<EpochMetrics> History { get; }

    /// <summary>Rows per forward pass in <see cref="Transform"/>.</summary>
    public int ScoringBatchSize { get; }

    /// <summary>
    /// Threads torch uses inside one operation while this model scores, &gt; 0, set and restored around each forward
    /// pass on the scoring thread; null leaves torch's setting alone. Taken from the trainer's
    /// <see cref="TrainerOptions.NumberOfThreads"/>; not saved in the model zip, so set it again after loading.
    /// </summary>
    public int? NumberOfThreads
    {
        get => _numberOfThreads;
        set => _numberOfThreads = value is { } threads ? Guard.Positive(threads, nameof(NumberOfThreads)) : null;
    }

    private int? _numberOfThreads;

    /// <summary>Layers, output shapes and parameter counts.</summary>
    public string Summary() => Network.Summary(_model.InputShape);

    internal NetworkModel Model => _model;

    internal ScoringHead Head => _head;

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        CheckInput(inputSchema);
        return _head.OutputSchema(inputSchema);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        CheckInput(inputSchema);
        return new NetworkRowMapper(this, inputSchema);
    }

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        Guard.NotNull(input);
        CheckInput(input.Schema);
        return new BatchedDataView(new NetworkBatchScorer(this), input);
    }

    /// <summary>Checks that <paramref name="schema"/> has the feature column with the trained size.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Missing column, wrong type or wrong size.</exception>
    internal void CheckInput(DataViewSchema schema) => SchemaChecks.FeatureVector(schema, FeatureColumnName, FeatureSize);

    /// <summary>Scores <paramref name="rows"/> examples given row-major.</summary>
    internal ScoredBatch Score(float[] features, int rows)
    {
        using var threads = TorchThreads.Use(_numberOfThreads);
        return _head.Score(_model.Forward(features, rows), rows);
    }

    /// <summary>
    /// Writes the network's weights to <paramref name="path"/> in TorchSharp's format, e.g. to start another
    /// training from them with <c>PretrainedWeights.FromTorchSharp(path)</c>. Written to a temporary file then moved.
    /// </summary>
    public void SaveWeights(string path)
    {
        var full = System.IO.Path.GetFullPath(Guard.NotEmpty(path));
        var temporary = full + ".tmp";
        using (var stream = System.IO.File.Create(temporary))
        using (var writer = new System.IO.BinaryWriter(stream))
            _model.SaveWeights(writer);
        System.IO.File.Move(temporary, full, overwrite: true);
    }

    /// <summary>
    /// A transformer adding the activations before this network's output layer as a vector column (its own
    /// copy of the weights), e.g. image or text embeddings for any ML.NET trainer. Reached through
    /// <c>mlContext.Transforms.ExtractNetworkFeatures</c>.
    /// </summary>
    internal NeuralNetworkTransformer CreateFeatureExtractor(string outputColumnName, string inputColumnName)
    {
        var model = _model.WithoutOutputLayer();
        var head = new ScoringHead(NetworkTask.FeatureExtraction, model.OutputSize, null, new OutputColumnNames(Features: outputColumnName));
        return new NeuralNetworkTransformer(model, head, inputColumnName, History, ScoringBatchSize) { NumberOfThreads = NumberOfThreads };
    }

    /// <summary>
    /// Writes the network and its scoring head as a standalone ONNX model (opset 17 by default) that ONNX Runtime, ML.NET's
    /// <c>ApplyOnnxModel</c> or any ONNX consumer scores without libtorch. The graph reads one float input named like
    /// <see cref="FeatureColumnName"/>, of shape (batch, <see cref="FeatureSize"/>) with a dynamic batch dimension, and
    /// writes the columns this transformer adds, under the same names: regression <c>Score</c> (batch); binary <c>Score</c>
    /// (the logit), <c>Probability</c> and <c>PredictedLabel</c> (bool); multiclass <c>Score</c> (batch, classes: the
    /// softmax probabilities, as this transformer's Score) and <c>PredictedLabel</c> (int64, the 0-based class index —
    /// ML.NET's key is that plus one); feature extraction the feature vector. The model's metadata records the task, the
    /// input shape, the image layout, the class names and the network description. Preprocessing done by other transformers
    /// of a pipeline (image resizing, pixel extraction, normalizers) is not included: feed the vector this transformer reads.
    /// </summary>
    /// <param name="stream">Where the model is written; left open.</param>
    /// <param name="options">Opset, graph name and extra metadata; <c>null</c> for the defaults.</param>
    /// <exception cref="NotSupportedException">A layer of the network has no ONNX lowering (the message names it); nothing is written.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The opset is outside 11 … 21.</exception>
    public void ExportToOnnx(System.IO.Stream stream, OnnxExportOptions? options = null) => NetworkOnnxExport.Write(this, stream, options);

    /// <summary>Writes the model as <see cref="ExportToOnnx(System.IO.Stream, OnnxExportOptions?)"/> does, to a file (written to a
    /// temporary file then moved, so a failed export leaves no partial file).</summary>
    /// <param name="path">The file to create or replace, e.g. <c>model.onnx</c>.</param>
    /// <param name="options">Opset, graph name and extra metadata; <c>null</c> for the defaults.</param>
    /// <exception cref="NotSupportedException">A layer of the network has no ONNX lowering (the message names it); nothing is written.</exception>
    public void ExportToOnnx(string path, OnnxExportOptions? options = null) => NetworkOnnxExport.Write(this, path, options);

    void ICanSaveModel.Save(ModelSaveContext ctx) => ModelFormat.Save(ctx, this);

    /// <summary>Frees the network's native memory now rather than at finalization.</summary>
    public void Dispose() => _model.Dispose();
}

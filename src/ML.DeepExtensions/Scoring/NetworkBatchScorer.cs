using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Model.OnnxConverter;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// <see cref="NeuralNetworkTransformer.Transform"/>'s scorer: feature vectors into one buffer per cursor, one forward pass
/// per <see cref="NeuralNetworkTransformer.ScoringBatchSize"/> rows, the head's columns (Score, Probability, PredictedLabel)
/// read from the scored batch.
/// </summary>
internal sealed class NetworkBatchScorer(NeuralNetworkTransformer parent) : IBatchScorer
{
    public int BatchSize => parent.ScoringBatchSize;

    public IReadOnlyList<string> ScoredColumns => [parent.FeatureColumnName];

    public string ScoredColumnsDescription => $"feature column '{parent.FeatureColumnName}'";

    public DataViewSchema OutputSchema(DataViewSchema input) => parent.Head.OutputSchema(input);

    public IBatchReader CreateReader(DataViewRow input) => new Reader(parent, input);

    public Action<OnnxContext>? SaveAsOnnx => ctx => Interop.OnnxPipelineExport.Save(parent, ctx);

    private sealed class Reader(NeuralNetworkTransformer parent, DataViewRow input) : IBatchReader
    {
        private readonly float[] _features = new float[parent.ScoringBatchSize * parent.FeatureSize];
        private readonly FeatureCopier _copy = FeatureVectors.Create(input, input.Schema[parent.FeatureColumnName]);
        private ScoredBatch? _batch;

        public void Read(int slot) => _copy(_features.AsSpan(slot * parent.FeatureSize, parent.FeatureSize));

        public void Score(int rows) => _batch = parent.Score(_features, rows);

        public Delegate Getter(string column, Func<int> row) => parent.Head.MakeGetter(column, () => _batch!, row);
    }
}

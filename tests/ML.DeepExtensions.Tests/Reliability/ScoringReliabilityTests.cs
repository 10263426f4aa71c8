using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Tests.Trainers;
using ML.DeepExtensions.Training;
using Xunit;
using static ML.DeepExtensions.Tests.Reliability.ReliabilityData;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>Issue 10: a non-repeatable input never gets scores on the wrong rows.</summary>
[Trait("Category", "Reliability")]
public class ScoringReliabilityTests
{
    [Fact]
    public void Transform_OnADataViewThatShufflesEveryCursor_ThrowsInsteadOfMisplacingScores()
    {
        // LoadFromEnumerable over an enumerable that shuffles on every enumeration: row ids are positions, so only
        // the features tell the two passes apart.
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(600);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 1 })
            .Fit(KeyData(mlContext, x, keys));
        var schema = SchemaDefinition.Create(typeof(KeyRow));
        schema[nameof(KeyRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        schema[nameof(KeyRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), 3);
        var shuffling = mlContext.Data.LoadFromEnumerable(new ShufflingRows(x.Select((f, i) => new KeyRow { Features = f, Label = keys[i] - 1 }).ToArray()), schema);

        var scored = model.Transform(shuffling);
        var ex = Assert.Throws<InvalidOperationException>(() => scored.GetColumn<float[]>("Score").ToArray());
        Assert.Contains("not repeatable", ex.Message);
    }

    [Fact]
    public void Transform_OnADataViewThatShufflesEveryCursorWithRowIds_ThrowsInsteadOfMisplacingScores()
    {
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(600);
        var data = KeyData(mlContext, x, keys);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 1 }).Fit(data);
        var scored = model.Transform(new ReshufflingView(mlContext.Data.Cache(data)));
        var ex = Assert.Throws<InvalidOperationException>(() => scored.GetColumn<float[]>("Score").ToArray());
        Assert.Contains("not repeatable", ex.Message);
    }

    [Fact]
    public void Transform_OnARepeatableDataView_ScoresEveryRowLikeOneRowAtATime()
    {
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(600);
        var data = KeyData(mlContext, x, keys);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 1 }).Fit(data);
        var batched = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        var engine = mlContext.Model.CreatePredictionEngine<KeyRow, ScoreRow>(model, inputSchemaDefinition: KeySchema());
        // Batched and single-row forward passes may differ in the last bit (different kernels); rows must not.
        for (var i = 0; i < x.Length; i += 97)
        {
            var single = engine.Predict(new KeyRow { Features = x[i], Label = keys[i] - 1 }).Score;
            Assert.All(single.Zip(batched[i]), p => Assert.Equal(p.First, p.Second, 5));
        }
    }

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }

    /// <summary>An enumerable that yields its rows in a new random order every time it is enumerated.</summary>
    private sealed class ShufflingRows(KeyRow[] rows) : IEnumerable<KeyRow>
    {
        private readonly Random _random = new(11);

        public IEnumerator<KeyRow> GetEnumerator()
        {
            var order = rows.ToArray();
            _random.Shuffle(order);
            return ((IEnumerable<KeyRow>)order).GetEnumerator();
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>A view whose every cursor is a fresh random shuffle of its source (row ids follow the rows, as ML.NET asks).</summary>
    private sealed class ReshufflingView(IDataView source) : IDataView
    {
        private int _cursors;

        public bool CanShuffle => true;
        public DataViewSchema Schema => source.Schema;
        public long? GetRowCount() => source.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
            => source.GetRowCursor(columnsNeeded, new Random(100 + Interlocked.Increment(ref _cursors)));

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
            => [GetRowCursor(columnsNeeded, rand)];
    }
}

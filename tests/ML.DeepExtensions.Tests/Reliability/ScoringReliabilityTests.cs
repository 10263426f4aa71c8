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

/// <summary>Issue 10: scores land on their own rows, even on an input whose every cursor returns another order.</summary>
[Trait("Category", "Reliability")]
public class ScoringReliabilityTests
{
    [Fact]
    public void Transform_OnADataViewThatShufflesEveryCursor_PutsEachScoreOnItsOwnRow()
    {
        // LoadFromEnumerable over an enumerable that shuffles on every enumeration: row ids are positions, so a second
        // cursor would silently see other rows. Each output row's score must belong to that row's own features.
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(600);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 1 })
            .Fit(KeyData(mlContext, x, keys));
        var schema = SchemaDefinition.Create(typeof(KeyRow));
        schema[nameof(KeyRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        schema[nameof(KeyRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), 3);
        var shuffling = mlContext.Data.LoadFromEnumerable(new ShufflingRows(x.Select((f, i) => new KeyRow { Features = f, Label = keys[i] - 1 }).ToArray()), schema);

        AssertEachScoreBelongsToItsRow(mlContext, model, model.Transform(shuffling), x.Length);
    }

    [Fact]
    public void Transform_OnADataViewThatShufflesEveryCursorWithRowIds_PutsEachScoreOnItsOwnRow()
    {
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(600);
        var data = KeyData(mlContext, x, keys);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 1 }).Fit(data);

        AssertEachScoreBelongsToItsRow(mlContext, model, model.Transform(new ReshufflingView(mlContext.Data.Cache(data))), x.Length);
    }

    [Fact]
    public void Transform_ReadsItsInputThroughOneCursor()
    {
        // Every upstream value (a decoded image, a tokenized text …) is computed once: scores and pass-through columns
        // come from the same cursor.
        var mlContext = new MLContext(1);
        var (x, keys) = Classes(300);
        var data = KeyData(mlContext, x, keys);
        var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = Network.Mlp([8]), Epochs = 1 }).Fit(data);
        var counting = new CursorCountingView(data);

        var rows = mlContext.Data.CreateEnumerable<ScoredKeyRow>(model.Transform(counting), reuseRowObject: false, schemaDefinition: ScoredSchema()).Count();

        Assert.Equal(x.Length, rows);
        Assert.Equal(1, counting.Cursors);
    }

    /// <summary>Reads features, label and score of every row through one cursor and checks each score against the row's own single-row prediction.</summary>
    private static void AssertEachScoreBelongsToItsRow(MLContext mlContext, ITransformer model, IDataView scored, int expectedRows)
    {
        var rows = mlContext.Data.CreateEnumerable<ScoredKeyRow>(scored, reuseRowObject: false, schemaDefinition: ScoredSchema()).ToArray();
        Assert.Equal(expectedRows, rows.Length);
        using var engine = mlContext.Model.CreatePredictionEngine<KeyRow, ScoreRow>(model, inputSchemaDefinition: KeySchema());
        var distinctScores = rows.Select(r => r.Score[0]).Distinct().Count();
        Assert.True(distinctScores > expectedRows / 2, $"only {distinctScores} distinct scores: the check below would prove nothing");
        foreach (var row in rows)
        {
            var single = engine.Predict(new KeyRow { Features = row.Features, Label = row.Label }).Score;
            Assert.All(single.Zip(row.Score), p => Assert.Equal(p.First, p.Second, tolerance: 1e-5f));
        }
    }

    private static SchemaDefinition ScoredSchema()
    {
        var schema = SchemaDefinition.Create(typeof(ScoredKeyRow), SchemaDefinition.Direction.Read);
        schema[nameof(ScoredKeyRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        schema[nameof(ScoredKeyRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), 3);
        return schema;
    }

    private sealed class ScoredKeyRow
    {
        public float[] Features { get; set; } = [];
        public uint Label { get; set; }
        public float[] Score { get; set; } = [];
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

    /// <summary>A view that counts the cursors opened on it.</summary>
    private sealed class CursorCountingView(IDataView source) : IDataView
    {
        private int _cursors;

        public int Cursors => _cursors;
        public bool CanShuffle => source.CanShuffle;
        public DataViewSchema Schema => source.Schema;
        public long? GetRowCount() => source.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            Interlocked.Increment(ref _cursors);
            return source.GetRowCursor(columnsNeeded, rand);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        {
            Interlocked.Increment(ref _cursors);
            return source.GetRowCursorSet(columnsNeeded, n, rand);
        }
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

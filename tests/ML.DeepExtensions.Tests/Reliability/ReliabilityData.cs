using System;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>Small seeded data sets for the reliability tests of issue 10.</summary>
internal static class ReliabilityData
{
    /// <summary>Rows of <paramref name="features"/> random features in [0, 1) and 3 classes, seeded.</summary>
    public static (float[][] X, uint[] Keys) Classes(int rows, int features = 4, int seed = 3)
    {
        var random = new Random(seed);
        var x = Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, features).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var keys = x.Select(v => (uint)(v[0] < 0.33 ? 1 : v[0] < 0.66 ? 2 : 3)).ToArray();
        return (x, keys);
    }

    /// <summary>A multiclass data view with a key label of 3 classes (key 0 = missing, as ML.NET defines it).</summary>
    public static IDataView KeyData(MLContext mlContext, float[][] x, uint[] keys, int classes = 3)
    {
        // LoadFromEnumerable reads a key column's raw values as zero-based indexes (0 → key 1); out of range → key 0.
        var rows = x.Select((f, i) => new KeyRow { Features = f, Label = unchecked(keys[i] - 1) }).ToArray();
        var schema = SchemaDefinition.Create(typeof(KeyRow));
        schema[nameof(KeyRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, x[0].Length);
        schema[nameof(KeyRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), classes);
        return mlContext.Data.LoadFromEnumerable(rows, schema);
    }

    /// <summary>A row of <see cref="KeyData"/>: features and a raw (zero-based) key.</summary>
    public sealed class KeyRow
    {
        public float[] Features { get; set; } = [];
        public uint Label { get; set; }
    }

    public static SchemaDefinition KeySchema()
    {
        var schema = SchemaDefinition.Create(typeof(KeyRow));
        schema[nameof(KeyRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        schema[nameof(KeyRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), 3);
        return schema;
    }
}

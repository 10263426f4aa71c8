// Usage: ScoringProbe <model.zip> <features.bin> <scores.bin>
// features.bin: int32 rows, int32 size, then rows×size float32. scores.bin: int32 count, then float32 values of the
// Score column (all slots) for every row, in order. Prints the loaded transformer's type name.
using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length != 3)
{
    Console.Error.WriteLine("Usage: ScoringProbe <model.zip> <features.bin> <scores.bin>");
    return 2;
}

var mlContext = new MLContext();
var model = mlContext.Model.Load(args[0], out _);
Console.WriteLine(model.GetType().FullName);

float[][] rows;
using (var reader = new BinaryReader(File.OpenRead(args[1])))
{
    var count = reader.ReadInt32();
    var size = reader.ReadInt32();
    rows = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, size).Select(_ => reader.ReadSingle()).ToArray()).ToArray();
}

var schema = SchemaDefinition.Create(typeof(Row));
schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Length);
var data = mlContext.Data.LoadFromEnumerable(rows.Select(r => new Row { Features = r }), schema);
var scored = model.Transform(data);
var score = scored.Schema["Score"];
var values = score.Type is VectorDataViewType
    ? scored.GetColumn<float[]>(score).SelectMany(v => v).ToArray()
    : scored.GetColumn<float>(score).ToArray();
using (var writer = new BinaryWriter(File.Create(args[2])))
{
    writer.Write(values.Length);
    foreach (var v in values)
        writer.Write(v);
}
return 0;

internal sealed class Row
{
    public float[] Features { get; set; } = [];
}

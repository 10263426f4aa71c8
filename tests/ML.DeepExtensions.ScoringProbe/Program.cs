// Usage: ScoringProbe <model.zip> <features.bin> <scores.bin>
//        ScoringProbe images <model.zip> <image-list.txt> <scores.bin>
//        ScoringProbe texts <model.zip> <texts.json> <scores.bin>
// features.bin: int32 rows, int32 size, then rows×size float32. image-list.txt: one image path per line, loaded
// into an "Image" column with LoadImages. texts.json: a JSON array of strings, loaded into a String column "Text". scores.bin: int32 count, then float32 values of the Score column
// (all slots) for every row, in order. Prints the loaded transformer's type name.
// The probe references the Vision and Text packages but never uses their types: loading a model must find them by name.
using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

var images = args.Length == 4 && args[0] == "images";
var texts = args.Length == 4 && args[0] == "texts";
if (args.Length != 3 && !images && !texts)
{
    Console.Error.WriteLine("Usage: ScoringProbe <model.zip> <features.bin> <scores.bin> | ScoringProbe images|texts <model.zip> <image-list.txt|texts.json> <scores.bin>");
    return 2;
}
if (images || texts)
    args = args[1..];

var mlContext = new MLContext();
var model = mlContext.Model.Load(args[0], out _);
Console.WriteLine(model.GetType().FullName);

IDataView data;
if (images)
{
    var paths = File.ReadAllLines(args[1]).Where(l => l.Length > 0).Select(p => new ImageRow { ImagePath = p });
    var listed = mlContext.Data.LoadFromEnumerable(paths);
    data = mlContext.Transforms.LoadImages("Image", null, nameof(ImageRow.ImagePath)).Fit(listed).Transform(listed);
}
else if (texts)
{
    var strings = System.Text.Json.JsonSerializer.Deserialize<string[]>(File.ReadAllText(args[1])) ?? [];
    data = mlContext.Data.LoadFromEnumerable(strings.Select(t => new TextRow { Text = t }));
}
else
{
    float[][] rows;
    using (var reader = new BinaryReader(File.OpenRead(args[1])))
    {
        var count = reader.ReadInt32();
        var size = reader.ReadInt32();
        rows = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, size).Select(_ => reader.ReadSingle()).ToArray()).ToArray();
    }
    var schema = SchemaDefinition.Create(typeof(Row));
    schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Length);
    data = mlContext.Data.LoadFromEnumerable(rows.Select(r => new Row { Features = r }), schema);
}
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

internal sealed class TextRow
{
    public string Text { get; set; } = "";
}

internal sealed class ImageRow
{
    public string ImagePath { get; set; } = "";
}

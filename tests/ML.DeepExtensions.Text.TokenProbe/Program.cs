// Usage: TokenProbe <model.zip> <texts.json> <ids.json> <column>
// texts.json: a JSON array of strings. ids.json: a JSON array with, for every text, the Int32 ids of <column>.
// Prints the loaded transformer's type name.
using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length != 4)
{
    Console.Error.WriteLine("Usage: TokenProbe <model.zip> <texts.json> <ids.json> <column>");
    return 2;
}

var mlContext = new MLContext();
var model = mlContext.Model.Load(args[0], out _);
Console.WriteLine(model.GetType().FullName);
var texts = JsonSerializer.Deserialize<string[]>(File.ReadAllText(args[1])) ?? [];
var data = mlContext.Data.LoadFromEnumerable(texts.Select(t => new Row { Text = t }));
var ids = model.Transform(data).GetColumn<VBuffer<int>>(args[3]).Select(v => v.DenseValues().ToArray()).ToArray();
File.WriteAllText(args[2], JsonSerializer.Serialize(ids));
return 0;

internal sealed class Row
{
    public string Text { get; set; } = "";
}

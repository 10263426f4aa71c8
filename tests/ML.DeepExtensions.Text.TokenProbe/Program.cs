// Usage: TokenProbe <model.zip> <texts.json> <ids.json> <column>
//   texts.json: a JSON array of strings. ids.json: a JSON array with, for every text, the Int32 ids of <column>.
//   Prints the loaded transformer's type name.
// Usage: TokenProbe generate <model.zip> <prompts.json> <out.json>
//   Loads a pipeline ending with a language model, transforms rows whose Text column holds the prompts and writes
//   {"Type", "Continuations" (the model's output column), "LogProbabilities" (next-token log-probabilities after each
//   prompt)}. The language-model type is reached by reflection only: the zip must name its assembly.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length == 4 && args[0] == "generate")
    return Generate(args[1], args[2], args[3]);
if (args.Length != 4)
{
    Console.Error.WriteLine("Usage: TokenProbe <model.zip> <texts.json> <ids.json> <column> | TokenProbe generate <model.zip> <prompts.json> <out.json>");
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

static int Generate(string modelPath, string promptsPath, string outputPath)
{
    var context = new MLContext();
    var loaded = context.Model.Load(modelPath, out _);
    var last = loaded is IEnumerable<ITransformer> chain ? chain.Last() : loaded;
    var prompts = JsonSerializer.Deserialize<string[]>(File.ReadAllText(promptsPath)) ?? [];
    var outputColumn = (string)last.GetType().GetProperty("OutputColumnName")!.GetValue(last)!;
    var rows = context.Data.LoadFromEnumerable(prompts.Select(p => new Row { Text = p }));
    var continuations = loaded.Transform(rows).GetColumn<string>(outputColumn).ToArray();
    var logProbabilities = prompts.Select(p => (float[])last.GetType().GetMethod("NextTokenLogProbabilities")!.Invoke(last, [p])!).ToArray();
    File.WriteAllText(outputPath, JsonSerializer.Serialize(new ProbeResult(last.GetType().FullName!, continuations, logProbabilities)));
    return 0;
}

internal sealed class Row
{
    public string Text { get; set; } = "";
}

internal sealed record ProbeResult(string Type, string[] Continuations, float[][] LogProbabilities);

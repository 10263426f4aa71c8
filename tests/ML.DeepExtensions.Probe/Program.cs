// The tests' fresh process: loads a model zip with a plain mlContext.Model.Load, as any application would, and uses it.
// It references the core, Vision, Text and Audio packages but never uses their types: loading a model must find them by name.
// Every mode prints the loaded model's type name on its first line.
//
//   features  <model.zip> <features.bin> <scores.bin>
//       features.bin: int32 rows, int32 size, then rows×size float32, loaded into a "Features" vector column.
//   images    <model.zip> <image-list.txt> <scores.bin>
//       one image path per line, loaded into an "Image" column with LoadImages.
//   texts     <model.zip> <texts.json> <scores.bin>
//       a JSON array of strings, loaded into a String column "Text".
//       The three modes above write scores.bin: int32 count, then the float32 values of the Score column (all slots)
//       of every row, in order.
//   tokens    <model.zip> <texts.json> <ids.json> <column>
//       texts as above; ids.json: a JSON array with, for every text, the Int32 ids of <column>.
//   generate  <model.zip> <prompts.json> <out.json>
//       a pipeline ending with a language model (reached by reflection only); prompts go into a "Text" column;
//       out.json: {"Type", "Continuations" (the model's output column), "LogProbabilities" (next-token
//       log-probabilities after each prompt)}.
//   transform <model.zip> <input.idv> <output.idv> [--prepare <prepare.zip>] <column>...
//       any model on any data: input.idv is an ML.NET binary data file (mlContext.Data.SaveAsBinary); the optional
//       prepare.zip (e.g. LoadImages, which binary files cannot hold) is applied first; output.idv holds the listed
//       columns of the model's output. Also prints "member: <type>" for every transformer of a loaded chain.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

const string Usage = "Usage: Probe features|images|texts <model.zip> <input> <scores.bin> | Probe tokens <model.zip> <texts.json> <ids.json> <column> | "
                   + "Probe generate <model.zip> <prompts.json> <out.json> | Probe transform <model.zip> <input.idv> <output.idv> [--prepare <prepare.zip>] <column>...";

if (args.Length < 4)
    return Fail();
var mlContext = new MLContext();
switch (args[0])
{
    case "features" or "images" or "texts" when args.Length == 4:
        return Score(args[0], args[1], args[2], args[3]);
    case "tokens" when args.Length == 5:
        return Tokens(args[1], args[2], args[3], args[4]);
    case "generate" when args.Length == 4:
        return Generate(args[1], args[2], args[3]);
    case "transform" when args.Length >= 5:
        return Transform(args[1], args[2], args[3], args[4..]);
    default:
        return Fail();
}

int Fail()
{
    Console.Error.WriteLine(Usage);
    return 2;
}

ITransformer Load(string path)
{
    var model = mlContext.Model.Load(path, out _);
    Console.WriteLine(model.GetType().FullName);
    return model;
}

int Score(string mode, string modelPath, string inputPath, string scoresPath)
{
    var model = Load(modelPath);
    IDataView data;
    if (mode == "images")
    {
        var paths = File.ReadAllLines(inputPath).Where(l => l.Length > 0).Select(p => new ImageRow { ImagePath = p });
        var listed = mlContext.Data.LoadFromEnumerable(paths);
        data = mlContext.Transforms.LoadImages("Image", null, nameof(ImageRow.ImagePath)).Fit(listed).Transform(listed);
    }
    else if (mode == "texts")
    {
        data = mlContext.Data.LoadFromEnumerable(ReadStrings(inputPath).Select(t => new TextRow { Text = t }));
    }
    else
    {
        float[][] rows;
        using (var reader = new BinaryReader(File.OpenRead(inputPath)))
        {
            var count = reader.ReadInt32();
            var size = reader.ReadInt32();
            rows = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, size).Select(_ => reader.ReadSingle()).ToArray()).ToArray();
        }
        var schema = SchemaDefinition.Create(typeof(FeatureRow));
        schema[nameof(FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Length);
        data = mlContext.Data.LoadFromEnumerable(rows.Select(r => new FeatureRow { Features = r }), schema);
    }
    var scored = model.Transform(data);
    var score = scored.Schema["Score"];
    var values = score.Type is VectorDataViewType
        ? scored.GetColumn<float[]>(score).SelectMany(v => v).ToArray()
        : scored.GetColumn<float>(score).ToArray();
    using var writer = new BinaryWriter(File.Create(scoresPath));
    writer.Write(values.Length);
    foreach (var v in values)
        writer.Write(v);
    return 0;
}

int Tokens(string modelPath, string textsPath, string idsPath, string column)
{
    var model = Load(modelPath);
    var data = mlContext.Data.LoadFromEnumerable(ReadStrings(textsPath).Select(t => new TextRow { Text = t }));
    var ids = model.Transform(data).GetColumn<VBuffer<int>>(column).Select(v => v.DenseValues().ToArray()).ToArray();
    File.WriteAllText(idsPath, JsonSerializer.Serialize(ids));
    return 0;
}

int Generate(string modelPath, string promptsPath, string outputPath)
{
    var loaded = Load(modelPath);
    var last = loaded is IEnumerable<ITransformer> chain ? chain.Last() : loaded;
    var prompts = ReadStrings(promptsPath);
    var outputColumn = (string)last.GetType().GetProperty("OutputColumnName")!.GetValue(last)!;
    var rows = mlContext.Data.LoadFromEnumerable(prompts.Select(p => new TextRow { Text = p }));
    var continuations = loaded.Transform(rows).GetColumn<string>(outputColumn).ToArray();
    var logProbabilities = prompts.Select(p => (float[])last.GetType().GetMethod("NextTokenLogProbabilities")!.Invoke(last, [p])!).ToArray();
    File.WriteAllText(outputPath, JsonSerializer.Serialize(new GenerateResult(last.GetType().FullName!, continuations, logProbabilities)));
    return 0;
}

int Transform(string modelPath, string inputPath, string outputPath, string[] rest)
{
    string? preparePath = null;
    if (rest.Length >= 2 && rest[0] == "--prepare")
    {
        preparePath = rest[1];
        rest = rest[2..];
    }
    if (rest.Length == 0)
        return Fail();
    var model = Load(modelPath);
    if (model is IEnumerable<ITransformer> members)
    {
        foreach (var member in members)
            Console.WriteLine($"member: {member.GetType().FullName}");
    }
    IDataView data = mlContext.Data.LoadFromBinary(inputPath);
    if (preparePath is not null)
        data = mlContext.Model.Load(preparePath, out _).Transform(data);
    var scored = model.Transform(data);
    var output = mlContext.Transforms.SelectColumns(rest).Fit(scored).Transform(scored);
    using var stream = File.Create(outputPath);
    mlContext.Data.SaveAsBinary(output, stream, keepHidden: false);
    return 0;
}

static string[] ReadStrings(string path) => JsonSerializer.Deserialize<string[]>(File.ReadAllText(path)) ?? [];

internal sealed class FeatureRow
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

internal sealed record GenerateResult(string Type, string[] Continuations, float[][] LogProbabilities);

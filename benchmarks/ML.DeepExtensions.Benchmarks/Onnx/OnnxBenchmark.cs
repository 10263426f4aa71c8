using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Vision.Zoo;
using TorchSharp;

namespace ML.DeepExtensions.Benchmarks.Onnx;

/// <summary>
/// Scoring rows/s of the same fitted model three ways: our libtorch <c>Transform</c> (batched in the cursor), ONNX Runtime
/// on the exported graph in batches, and ONNX Runtime one row per call (how ML.NET's <c>ApplyOnnxModel</c> runs it),
/// plus ML.NET's <c>ApplyOnnxModel</c> itself, with file sizes and a check that the scores agree. One thread on both sides.
/// <c>--onnx</c> (or <c>--onnx-quick</c>: fewer rows).
/// </summary>
public static class OnnxBenchmark
{
    public static bool Wants(string[] args) => args.Contains("--onnx") || args.Contains("--onnx-quick");

    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public string Digit { get; set; } = "";
    }

    public static int Run(string[] args)
    {
        var quick = args.Contains("--onnx-quick");
        var rows = quick ? 2_000 : 10_000;
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(1);
        var directory = Directory.CreateTempSubdirectory("mldx-onnx-bench").FullName;
        var table = new List<string>
        {
            $"ONNX export benchmark ({(quick ? "quick, " : "")}rows scored per path: MLP {rows:N0}, LeNet-5 {rows / 2:N0}, ResNet-18 {rows / 20:N0}; median of 3 passes (1 for the row-at-a-time paths) after a warm-up; 1 thread for libtorch and ONNX Runtime, {Environment.ProcessorCount} CPUs, ORT 1.31.1)",
            "",
            "| Model | Ours: Transform (libtorch, batched) | ORT batched (256 rows/call) | ORT 1 row/call | ML.NET ApplyOnnxModel | Max abs score diff | Zip | ONNX |",
            "|---|---|---|---|---|---|---|---|",
        };
        try
        {
            table.Add(Measure("MLP 64→128→64→10 (digits-sized)", Network.Mlp([128, 64]), [64], rows, directory));
            table.Add(Measure("CNN 1×28×28 (LeNet-5)", Network.Create().Reshape(1, 28, 28).Add(VisionArchitectures.LeNet5().Layers.Single()), [784], rows / 2, directory));
            table.Add(Measure("ResNet-18 ×0.25, 3×32×32", Network.Create().Reshape(3, 32, 32).Add(VisionArchitectures.ResNet18(width: 0.25, smallInput: true).Layers.Single()),
                [3 * 32 * 32], rows / 20, directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
        var text = string.Join(Environment.NewLine, table);
        Console.WriteLine(text);
        return 0;
    }

    private static string Measure(string name, Network network, int[] featureShape, int rows, string directory)
    {
        Console.Error.WriteLine($"[onnx] {name}: training 1 epoch on 256 random rows, scoring {rows:N0} rows");
        var size = featureShape.Aggregate(1, (a, d) => a * d);
        var mlContext = new MLContext(1);
        var random = new Random(5);
        Row MakeRow() => new() { Features = Enumerable.Range(0, size).Select(_ => (float)random.NextDouble()).ToArray(), Digit = random.Next(10).ToString(CultureInfo.InvariantCulture) };
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        var raw = mlContext.Data.LoadFromEnumerable(Enumerable.Range(0, 256).Select(_ => MakeRow()).ToArray(), schema);
        var train = mlContext.Transforms.Conversion.MapValueToKey("Label", "Digit").Fit(raw).Transform(raw);
        var scoringRows = Enumerable.Range(0, rows).Select(_ => MakeRow()).ToArray();
        var scoring = mlContext.Data.LoadFromEnumerable(scoringRows, schema);
        using var model = mlContext.MulticlassClassification.Trainers.NeuralNetwork(new NeuralNetworkMulticlassOptions { Network = network, Epochs = 1, BatchSize = 64 }).Fit(train);

        var zip = Path.Combine(directory, "model.zip");
        mlContext.Model.Save(model, train.Schema, zip);
        var onnx = Path.Combine(directory, "model.onnx");
        model.ExportToOnnx(onnx);

        // Ours: batched Transform read through a cursor on Score (warm-up first).
        float[] ours = [];
        double OursPass()
        {
            var watch = Stopwatch.StartNew();
            ours = model.Transform(scoring).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
            return watch.Elapsed.TotalSeconds;
        }
        OursPass();
        var oursSeconds = Median(OursPass, 3);

        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(onnx, options);
        var features = scoringRows.SelectMany(r => r.Features).ToArray();
        float[] batched = [];
        double OrtPass(int batch)
        {
            var watch = Stopwatch.StartNew();
            var result = new float[rows * 10];
            for (var start = 0; start < rows; start += batch)
            {
                var n = Math.Min(batch, rows - start);
                var input = NamedOnnxValue.CreateFromTensor("Features", new DenseTensor<float>(features.AsMemory(start * size, n * size), [n, size]));
                using var outputs = session.Run([input], ["Score"]);
                outputs[0].AsTensor<float>().ToArray().CopyTo(result, start * 10);
            }
            batched = result;
            return watch.Elapsed.TotalSeconds;
        }
        OrtPass(256);
        var ortBatched = Median(() => OrtPass(256), 3);
        var check = batched;
        var ortSingle = Median(() => OrtPass(1), 1);

        var applyOnnx = mlContext.Transforms.ApplyOnnxModel(["Score"], ["Features"], onnx).Fit(scoring);
        double ApplyPass()
        {
            var watch = Stopwatch.StartNew();
            _ = applyOnnx.Transform(scoring).GetColumn<float[]>("Score").Count();
            return watch.Elapsed.TotalSeconds;
        }
        ApplyPass();
        var applySeconds = Median(ApplyPass, 1);
        (applyOnnx as IDisposable)?.Dispose();

        var diff = ours.Zip(check).Max(p => Math.Abs(p.First - p.Second));
        string Rate(double seconds) => string.Create(CultureInfo.InvariantCulture, $"{rows / seconds:N0} rows/s");
        string Ratio(double seconds) => string.Create(CultureInfo.InvariantCulture, $" (×{oursSeconds / seconds:0.00})");
        return $"| {name} | {Rate(oursSeconds)} | {Rate(ortBatched)}{Ratio(ortBatched)} | {Rate(ortSingle)}{Ratio(ortSingle)} | {Rate(applySeconds)}{Ratio(applySeconds)} | {diff:0.0e0} | {new FileInfo(zip).Length / 1024.0:N0} KiB | {new FileInfo(onnx).Length / 1024.0:N0} KiB |";
    }

    private static double Median(Func<double> run, int repeats)
    {
        var times = Enumerable.Range(0, repeats).Select(_ => run()).OrderBy(t => t).ToArray();
        return times[times.Length / 2];
    }
}

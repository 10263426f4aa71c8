using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Text.Classification;
using TorchSharp;

namespace ML.DeepExtensions.Benchmarks.Text;

/// <summary>
/// Issue 15: an LSTM text encoder's training on padded batches, <c>UnrolledLstm</c> (the default on every CPU) against
/// <c>pack_padded_sequence</c> and libtorch's packed kernel. <c>NeuralTextClassifier.Fit</c>, one epoch of b32 over 640
/// random token-id rows of 16–128 tokens (~55 % real tokens), <c>LengthBucketing = false</c> so every batch is padded;
/// three encoders (2×LSTM(256), bidirectional 2×LSTM(256), bidirectional 2×LSTM(32)); one warm-up fit per side, then
/// alternating rounds, medians of training samples/s. <c>--padded-lstm [--threads N] [--rounds N]</c>.
/// </summary>
internal static class PaddedLstmProbe
{
    private const int Length = 128, Rows = 640, Vocabulary = 5000, Classes = 10;

    public static bool Wants(string[] args) => args.Contains("--padded-lstm");

    public static int Run(string[] args)
    {
        var threads = BenchArgs.PositiveInt(args, "--threads") ?? 1;
        var rounds = BenchArgs.PositiveInt(args, "--rounds") ?? 3;
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(threads);
        var mlContext = new MLContext(1);
        var data = Data(mlContext, out var realShare);
        var text = new StringBuilder();
        text.AppendLine($"Padded LSTM training, {threads} thread(s), {rounds} rounds, {Rows} rows of 16–{Length} tokens ({realShare:P0} real), b32, bucketing off; samples/s, medians (spread)");
        text.AppendLine();
        text.AppendLine("| encoder | unrolled (default) | packed kernel | unrolled / packed |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (var (name, encoder) in new[]
        {
            ("2×LSTM(256)", TextEncoder.Lstm(256, 2, bidirectional: false, TextPooling.LastState)),
            ("bidirectional 2×LSTM(256)", TextEncoder.Lstm(256, 2, bidirectional: true, TextPooling.LastState)),
            ("bidirectional 2×LSTM(32)", TextEncoder.Lstm(32, 2, bidirectional: true, TextPooling.LastState)),
        })
        {
            Fit(mlContext, data, encoder, unrolled: true);
            Fit(mlContext, data, encoder, unrolled: false);
            var rates = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
            for (var round = 0; round < rounds; round++)
            {
                foreach (var unrolled in round % 2 == 0 ? new[] { true, false } : [false, true])
                {
                    var rate = Fit(mlContext, data, encoder, unrolled);
                    rates[unrolled].Add(rate);
                    Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {name}, round {round + 1}/{rounds}: {(unrolled ? "unrolled" : "packed")} {rate:F1} samples/s");
                }
            }
            double Median(bool unrolled) => Bench.Median(rates[unrolled]);
            string Cell(bool unrolled) => $"{Median(unrolled):F1} ({rates[unrolled].Min():F1}–{rates[unrolled].Max():F1})";
            text.AppendLine($"| {name} | {Cell(true)} | {Cell(false)} | {Median(true) / Median(false):F2} |");
        }
        Console.WriteLine(text);
        return 0;
    }

    /// <summary>Training samples/s of one epoch, the unrolled pass forced on or off for this flow.</summary>
    private static double Fit(MLContext mlContext, IDataView data, TextEncoder encoder, bool unrolled)
    {
        using var forced = InternalSwitches.UnrolledLstm(unrolled);
        var clock = Stopwatch.StartNew();
        using var model = mlContext.MulticlassClassification.Trainers.NeuralTextClassifier(new NeuralTextMulticlassOptions
        {
            TextColumnName = nameof(TokenRow.Text), VocabularySize = Vocabulary, PaddingId = 0, MaxLength = Length,
            EmbeddingDimensions = 128, Dropout = 0, Network = encoder, Epochs = 1, BatchSize = 32, LengthBucketing = false,
        }).Fit(data).LastTransformer;
        return Rows / clock.Elapsed.TotalSeconds;
    }

    private static IDataView Data(MLContext mlContext, out double realShare)
    {
        var random = new Random(7);
        var rows = Enumerable.Range(0, Rows).Select(_ =>
        {
            var ids = new int[Length];
            var tokens = random.Next(16, Length + 1);
            for (var i = 0; i < tokens; i++)
                ids[i] = random.Next(1, Vocabulary);
            return new TokenRow { Text = ids, Class = random.Next(Classes) };
        }).ToArray();
        realShare = rows.Sum(r => r.Text.Count(t => t != 0)) / (double)(Rows * Length);
        var schema = SchemaDefinition.Create(typeof(TokenRow));
        schema[nameof(TokenRow.Text)].ColumnType = new VectorDataViewType(NumberDataViewType.Int32, Length);
        var texts = mlContext.Data.LoadFromEnumerable(rows, schema);
        return mlContext.Transforms.Conversion.MapValueToKey("Label", nameof(TokenRow.Class)).Fit(texts).Transform(texts);
    }

    private sealed class TokenRow
    {
        public int[] Text { get; set; } = [];

        public float Class { get; set; }
    }
}

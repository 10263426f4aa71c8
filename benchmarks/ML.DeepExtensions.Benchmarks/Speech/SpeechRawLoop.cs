using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Audio;
using ML.DeepExtensions.Audio.Data;
using ML.DeepExtensions.Benchmarks.Vision;
using ML.DeepExtensions.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Benchmarks.Speech;

/// <summary>
/// <c>--speech-raw-loop [--speech-raw-epochs N] [--threads N]</c>: the DeepSpeech2 recogniser's training speed through our
/// <c>Fit</c> against a bare TorchSharp loop on the same network description, the same 448 utterances (features computed
/// once, as <c>Fit</c> does), batches of 16 of similar length (sorted by length, batch order shuffled per epoch — the shape
/// of our length bucketing), the same CTC loss, Adam 3e−3 and gradient clipping at 5. Seconds per epoch are the mean of the
/// epochs after the first; our epochs include what <c>Fit</c> does per epoch (training WER/CER by greedy decoding).
/// </summary>
internal static class SpeechRawLoop
{
    public static bool Wants(string[] args) => args.Contains("--speech-raw-loop");

    private sealed class Row
    {
        public string AudioPath { get; set; } = "";

        public string Transcript { get; set; } = "";
    }

    public static int Run(string[] args)
    {
        var epochs = BenchArgs.PositiveInt(args, "--speech-raw-epochs") ?? 4;
        var threads = BenchArgs.PositiveInt(args, "--threads");
        TorchRuntime.EnsureInitialized();
        if (threads is { } t)
            torch.set_num_threads(t);
        var folder = Path.Combine(Path.GetTempPath(), "mldx-speech-benchmark-corpus");
        var clips = SpokenCorpus.Generate(folder, SpokenCorpus.TrainingVoices, 448, seed: 1, maxWords: 2);
        var ml = new MLContext(seed: 1);
        var rows = ml.Data.LoadFromEnumerable(clips.Select(c => new Row { AudioPath = c.Path, Transcript = c.Transcript }).ToArray());
        var train = ml.Data.Cache(ml.Transforms.LoadAudio("Audio", "AudioPath").Fit(rows).Transform(rows));
        const string vocabulary = "abcdefghijklmnopqrstuvwxyz ";
        var options = SpeechBenchmark.EncoderOptions(SpeechEncoder.DeepSpeech2, epochs, 16, 3e-3, 16, 96, 2);
        options.NumberOfThreads = threads;

        var clock = Stopwatch.StartNew();
        using var ours = ml.SpeechRecognition().Trainers.SpeechRecognizer(options).Fit(train);
        var oursTotal = clock.Elapsed;
        var oursEpoch = ours.History.Skip(1).Average(h => h.Duration.TotalSeconds);

        // The raw loop: features once, batches (N, T, F + 1) with the mask channel, as the recogniser's encoder reads them.
        var samples = train.GetColumn<float[]>("Audio").ToArray();
        var features = samples.Select(s => AudioFeatures.Compute(s, options.Features)).ToArray();
        var targets = clips.Select(c => c.Transcript.Select(ch => (long)(vocabulary.IndexOf(ch) + 1)).ToArray()).ToArray();
        var bySize = Enumerable.Range(0, features.Length).OrderBy(i => features[i].Length).ToArray();
        var batches = new List<int[]>();
        for (var i = 0; i < bySize.Length; i += 16)
            batches.Add(bySize.Skip(i).Take(16).ToArray());
        var (model, module) = VisionRawTrainer.Build(ours.Network, [options.Features.FeaturesPerFrame + 1], 1);
        using var disposeModel = model;
        using var optimizer = torch.optim.Adam(module.parameters(), 3e-3, 0.9, 0.999, 1e-8);
        var random = new Random(1);
        var rawEpochs = new List<double>();
        module.train();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var order = batches.ToArray();
            random.Shuffle(order);
            var watch = Stopwatch.StartNew();
            foreach (var batch in order)
            {
                using var scope = torch.NewDisposeScope();
                var (x, y, outLengths, targetLengths) = Make(batch, features, targets);
                optimizer.zero_grad();
                var logProbabilities = module.forward(x).log_softmax(2).transpose(0, 1);
                var loss = nn.functional.ctc_loss(logProbabilities, y, outLengths, targetLengths, blank: 0, zero_infinity: true, reduction: nn.Reduction.Mean);
                loss.backward();
                nn.utils.clip_grad_norm_(module.parameters(), 5);
                optimizer.step();
            }
            rawEpochs.Add(watch.Elapsed.TotalSeconds);
            Console.Error.WriteLine($"raw epoch {epoch + 1}: {watch.Elapsed.TotalSeconds:F1} s");
        }
        var rawEpoch = rawEpochs.Skip(1).Average();
        string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        Console.WriteLine($"## Speech training: our Fit vs a raw TorchSharp loop (DeepSpeech2, 448 utterances, batch 16), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {LoadMeter.LoadAverage()?.ToString("F1", CultureInfo.InvariantCulture) ?? "n/a"}");
        Console.WriteLine();
        Console.WriteLine("| Measure | Ours (Fit) | Raw loop | Ratio |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine($"| Seconds per epoch (mean of epochs 2–{epochs}) | {F(oursEpoch, "F2")} | {F(rawEpoch, "F2")} | {F(oursEpoch / rawEpoch, "F2")} |");
        Console.WriteLine($"| Utterances/s | {F(448 / oursEpoch, "F1")} | {F(448 / rawEpoch, "F1")} | |");
        Console.WriteLine($"| Whole Fit including reading + features ({epochs} epochs) | {F(oursTotal.TotalSeconds, "F1")} s | | |");
        return 0;
    }

    private static (Tensor X, Tensor Y, Tensor OutLengths, Tensor TargetLengths) Make(int[] batch, float[][][] features, long[][] targets)
    {
        var frames = batch.Max(i => features[i].Length);
        var width = features[0][0].Length + 1;
        var longest = batch.Max(i => targets[i].Length);
        var x = new float[batch.Length * frames * width];
        var y = new long[batch.Length * longest];
        for (var b = 0; b < batch.Length; b++)
        {
            var utterance = features[batch[b]];
            for (var f = 0; f < utterance.Length; f++)
            {
                Array.Copy(utterance[f], 0, x, (b * frames + f) * width, width - 1);
                x[(b * frames + f) * width + width - 1] = 1;
            }
            Array.Copy(targets[batch[b]], 0, y, b * longest, targets[batch[b]].Length);
        }
        return (torch.tensor(x, new long[] { batch.Length, frames, width }), torch.tensor(y, new long[] { batch.Length, longest }),
            torch.tensor(batch.Select(i => (long)(features[i].Length + 1) / 2).ToArray()), torch.tensor(batch.Select(i => (long)targets[i].Length).ToArray()));
    }
}

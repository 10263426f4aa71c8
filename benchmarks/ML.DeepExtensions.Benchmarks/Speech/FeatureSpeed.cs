using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using ML.DeepExtensions.Audio;
using ML.DeepExtensions.Audio.Data;
using ML.DeepExtensions.Runtime;
using NWaves.FeatureExtractors;
using NWaves.FeatureExtractors.Options;
using NWaves.Filters.Fda;
using NWaves.Windows;

namespace ML.DeepExtensions.Benchmarks.Speech;

/// <summary>
/// <c>--audio-features [--audio-features-clips N] [--threads N]</c>: log-mel extraction speed on the same utterances (the espeak-ng
/// corpus's training clips, resampled to 16 kHz) — our public <see cref="AudioFeatures.Compute"/> (float64 tensor ops), NWaves
/// 0.9.6's <c>FilterbankExtractor</c> (managed float32) and torchaudio 0.13's <c>MelSpectrogram</c> + <c>AmplitudeToDB</c>
/// (float32 and float64, <c>benchmarks/pytorch/audio_features.py</c> under <c>/usr/bin/python3</c>). Same settings on every side:
/// FFT 512 over a 400-sample (25 ms) Hann window (NWaves needs a power-of-two FFT), hop 160, power spectrum, 40 HTK mels 0–8 kHz, 10·log10 (no per-utterance normalisation). Each side
/// runs one utterance per call, best of three passes. Prints one markdown table.
/// </summary>
internal static class FeatureSpeed
{

    public static bool Wants(string[] args) => args.Contains("--audio-features");

    public static int Run(string[] args)
    {
        var clips = BenchArgs.PositiveInt(args, "--audio-features-clips") ?? 448;
        var threads = BenchArgs.PositiveInt(args, "--threads") ?? 1;
        TorchRuntime.EnsureInitialized();
        TorchSharp.torch.set_num_threads(threads);
        var folder = Path.Combine(Path.GetTempPath(), "mldx-speech-benchmark-corpus");
        var utterances = SpokenCorpus.Generate(folder, SpokenCorpus.TrainingVoices, clips, seed: 1).Select(c => WavAudio.Read(c.Path, 16000)).ToArray();
        var seconds = utterances.Sum(u => u.Length) / 16000.0;
        var options = new AudioFeatureOptions { FftSize = 512, WindowLength = 400, NormalizePerUtterance = false, MinFrequency = 0, MaxFrequency = 8000 };

        double Best(Action pass)
        {
            pass(); // warm-up (JIT, allocator, FFT plans)
            var best = double.MaxValue;
            for (var r = 0; r < 3; r++)
            {
                var clock = Stopwatch.StartNew();
                pass();
                best = Math.Min(best, clock.Elapsed.TotalSeconds);
            }
            return best;
        }

        var ours = Best(() =>
        {
            foreach (var u in utterances)
                AudioFeatures.Compute(u, options);
        });

        var nwavesOptions = new FilterbankOptions
        {
            SamplingRate = 16000,
            FrameSize = 400,
            HopSize = 160,
            FftSize = 512,
            Window = WindowType.Hann,
            SpectrumType = SpectrumType.Power,
            NonLinearity = NonLinearityType.ToDecibel,
            FilterBank = FilterBanks.Triangular(512, 16000, FilterBanks.MelBands(40, 16000, 0, 8000)),
        };
        var extractor = new FilterbankExtractor(nwavesOptions);
        var nwaves = Best(() =>
        {
            foreach (var u in utterances)
                extractor.ComputeFrom(u);
        });
        // Agreement on the first utterance, on the frames both compute (NWaves frames from sample 0 without centring, so
        // its frame t is our frame t + 1 shifted by 40 samples: compare shapes only, and the mean over all frames per bin).
        var ourFirst = AudioFeatures.Compute(utterances[0], options);
        var theirFirst = extractor.ComputeFrom(utterances[0]);

        var (python, problem) = TorchAudio(utterances, threads);

        string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        string Row(string side, double s) => $"| {side} | {F(s, "F3")} s | {F(utterances.Length / s, "F0")} | {F(s / seconds, "F5")} | {F(s / ours, "F2")} |";
        Console.WriteLine($"## Log-mel extraction speed, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {LoadMeter.LoadAverage()?.ToString("F1", CultureInfo.InvariantCulture) ?? "n/a"}");
        Console.WriteLine();
        Console.WriteLine($"Command: `dotnet run -c Release --project benchmarks/ML.DeepExtensions.Benchmarks -- {string.Join(' ', args)}`. {utterances.Length} espeak-ng utterances ({F(seconds, "F0")} s of 16 kHz audio), one per call, {threads} torch thread(s), best of 3 passes; FFT 512 over a 400-sample Hann window (NWaves needs a power of two), hop 160, power, 40 HTK mels 0–8 kHz, dB. " +
            $"Frames per utterance: ours/torchaudio (centred) {ourFirst.Length}, NWaves (not centred) {theirFirst.Count} on the first clip.");
        Console.WriteLine();
        Console.WriteLine("| Side | Time | Utterances/s | Real-time factor | Time vs ours |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine(Row("ML.DeepExtensions.Audio `AudioFeatures.Compute` (libtorch stft, float64)", ours));
        Console.WriteLine(Row("NWaves 0.9.6 `FilterbankExtractor` (managed, float32)", nwaves));
        if (python is null)
        {
            Console.WriteLine($"| torchaudio 0.13.1 | not measured: {problem} | | | |");
        }
        else
        {
            foreach (var (dtype, s) in python)
                Console.WriteLine(Row($"torchaudio 0.13.1 `MelSpectrogram` + `AmplitudeToDB` ({dtype}, {threads} thread(s))", s));
        }
        return 0;
    }

    private static ((string Dtype, double Seconds)[]? Rows, string Problem) TorchAudio(float[][] utterances, int threads)
    {
        var folder = Directory.CreateTempSubdirectory("mldx-audio-features-").FullName;
        try
        {
            var samples = Path.Combine(folder, "samples.f32");
            using (var writer = new BinaryWriter(File.Create(samples)))
            {
                foreach (var u in utterances)
                {
                    foreach (var s in u)
                        writer.Write(s);
                }
            }
            var lengths = Path.Combine(folder, "lengths.txt");
            File.WriteAllLines(lengths, utterances.Select(u => u.Length.ToString(CultureInfo.InvariantCulture)));
            var (output, problem) = PythonSide.Run("audio_features.py", [samples, lengths, threads.ToString(CultureInfo.InvariantCulture), "3"]);
            if (output is null)
                return (null, problem + " (Debian python3-torchaudio)");
            return (output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' '))
                .Select(p => (p[0], double.Parse(p[1], CultureInfo.InvariantCulture))).ToArray(), "");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

// The spoken-digits / short-commands corpus of the audio package, generated with Debian's espeak-ng (installed by
// eng/install-reference-tools.sh). One seeded generator, compiled into the audio tests, the SpeechRecognition sample and
// the benchmarks (linked, not copied). Each clip is 1–2 words from 20 (ten digits + ten commands), spoken by one voice
// (an espeak-ng accent + a voice variant) at a random speed (-s) and pitch (-p), written as a 16-bit mono WAV (22,050 Hz).
// Test voices use variants no training voice uses, so tests measure unseen speakers.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace ML.DeepExtensions.Audio.Data;

/// <summary>One generated clip: the WAV file, what is said, and who says it.</summary>
internal sealed record SpokenClip(string Path, string Transcript, string Voice);

/// <summary>Generates the corpus with the espeak-ng command line.</summary>
internal static class SpokenCorpus
{
    /// <summary>The vocabulary: ten digits and ten short commands.</summary>
    public static readonly string[] Words =
    [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
    ];

    private static readonly string[] Accents = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us-nyc"];

    /// <summary>Training voices: every accent with variants m1, m2, m4, m5, f1, f2, f4 (56 voices).</summary>
    public static readonly string[] TrainingVoices = Accents.SelectMany(a => new[] { "m1", "m2", "m4", "m5", "f1", "f2", "f4" }.Select(v => $"{a}+{v}")).ToArray();

    /// <summary>Test voices: variants m3, m6, f3, f5 — never in training — on six accents (unseen speakers).</summary>
    public static readonly string[] TestVoices =
        ["en-us+m3", "en-gb+f3", "en-gb-scotland+m6", "en-gb-x-rp+f5", "en-029+m3", "en-us-nyc+f3", "en-gb-x-gbcwmd+m6", "en-gb-x-gbclan+f5"];

    /// <summary>Whether espeak-ng can be run.</summary>
    public static bool Available()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("espeak-ng", "--version") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            process.WaitForExit(10_000);
            return process.ExitCode == 0;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// Writes <paramref name="clips"/> clips into <paramref name="folder"/>, cycling through <paramref name="voices"/>;
    /// words, speeds (130–190 words/min) and pitches (25–75) come from <paramref name="seed"/>. Files already there (same
    /// name = same seed, index and settings) are reused.
    /// </summary>
    public static IReadOnlyList<SpokenClip> Generate(string folder, IReadOnlyList<string> voices, int clips, int seed, int maxWords = 2)
    {
        if (!Available())
            throw new InvalidOperationException("espeak-ng is not installed: run `bash eng/install-reference-tools.sh` (apt-get install espeak-ng).");
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        var plan = new List<(SpokenClip Clip, int Speed, int Pitch)>();
        for (var i = 0; i < clips; i++)
        {
            var voice = voices[i % voices.Count];
            var count = random.Next(1, maxWords + 1);
            var transcript = string.Join(' ', Enumerable.Range(0, count).Select(_ => Words[random.Next(Words.Length)]));
            var speed = random.Next(130, 191);
            var pitch = random.Next(25, 76);
            var name = $"{seed}-{i:D5}-{voice.Replace('+', '_')}-s{speed}-p{pitch}-{transcript.Replace(' ', '_')}.wav";
            plan.Add((new SpokenClip(Path.Combine(folder, name), transcript, voice), speed, pitch));
        }
        Parallel.ForEach(plan, new ParallelOptions { MaxDegreeOfParallelism = 2 }, item =>
        {
            if (File.Exists(item.Clip.Path) && new FileInfo(item.Clip.Path).Length > 44)
                return;
            // Written to a private temporary file, then moved into place: test classes running in parallel generate the same
            // clips, and none of them may read a WAV another is still writing.
            var temporary = $"{item.Clip.Path}.{Guid.NewGuid():N}.tmp";
            var start = new ProcessStartInfo("espeak-ng") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "-v", item.Clip.Voice, "-s", item.Speed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                                             "-p", item.Pitch.ToString(System.Globalization.CultureInfo.InvariantCulture), "-w", temporary, item.Clip.Transcript })
                start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0 || !File.Exists(temporary))
                throw new InvalidOperationException($"espeak-ng failed for voice {item.Clip.Voice} (exit {process.ExitCode}): {error}");
            File.Move(temporary, item.Clip.Path, overwrite: true);
        });
        return plan.Select(p => p.Clip).ToArray();
    }
}

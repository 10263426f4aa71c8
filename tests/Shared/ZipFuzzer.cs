using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace ML.DeepExtensions.TestSupport;

/// <summary>
/// Flips random bytes in the entries of a saved model zip, one entry per trial in turn (so every entry gets its share),
/// and sorts what each damaged copy gives: the same outputs bit for bit, or an exception. Anything else — different
/// outputs without an exception — is a silent failure, the one outcome the model formats must never allow.
/// </summary>
internal static class ZipFuzzer
{
    /// <summary>What one trial gave.</summary>
    /// <param name="Entry">The damaged entry.</param>
    /// <param name="Flips">How many bytes were flipped.</param>
    /// <param name="Identical">Loaded and gave the original outputs.</param>
    /// <param name="Error">The exception when loading or scoring failed, else null.</param>
    /// <param name="Silent">Loaded and gave different outputs.</param>
    public sealed record Trial(string Entry, int Flips, bool Identical, Exception? Error, bool Silent);

    /// <summary>
    /// ML.NET's snapshot of the input schema (read by ML.NET's BinaryLoader, not by our formats). It is left out: one
    /// damaged copy in about 36 made <c>mlContext.Model.Load</c> spin for minutes inside ML.NET, which no model format
    /// can guard and a test cannot interrupt.
    /// </summary>
    public const string InputSchemaEntry = "Schema";

    /// <summary>The entries <see cref="Run"/> damages: all but <see cref="InputSchemaEntry"/>.</summary>
    public static string[] FuzzedEntries(string zip) => ModelZipSurgery.EntryNames(zip).Where(e => e != InputSchemaEntry).ToArray();

    /// <summary>
    /// Runs <paramref name="trials"/> trials on copies of <paramref name="zip"/> in <paramref name="directory"/>;
    /// <paramref name="outputs"/> loads a zip and returns its outputs as bytes (floats by their bits).
    /// </summary>
    public static IReadOnlyList<Trial> Run(string zip, string directory, int trials, int seed, Func<string, byte[]> outputs)
    {
        var reference = outputs(zip);
        var entries = FuzzedEntries(zip);
        var contents = entries.ToDictionary(e => e, e => ModelZipSurgery.Read(zip, e));
        var random = new Random(seed);
        var damaged = Path.Combine(directory, "fuzzed.zip");
        var results = new List<Trial>(trials);
        for (var i = 0; i < trials; i++)
        {
            var entry = entries[i % entries.Length];
            var flips = random.Next(1, 9);
            var bytes = contents[entry];
            if (bytes.Length == 0)
                continue;
            ModelZipSurgery.CopyWithEntry(zip, damaged, entry, ModelZipSurgery.Flip(bytes, flips, random));
            if (Environment.GetEnvironmentVariable("MLDX_FUZZ_KEEP") is { } keep)
                File.Copy(damaged, Path.Combine(keep, $"trial-{i}.zip"), overwrite: true);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            byte[] result;
            try
            {
                result = outputs(damaged);
            }
            catch (Exception ex)
            {
                results.Add(new Trial(entry, flips, false, ex, false));
                Progress($"{i} {entry} {flips} {clock.ElapsedMilliseconds} ms {Describe(ex)}");
                continue;
            }
            Progress($"{i} {entry} {flips} {clock.ElapsedMilliseconds} ms loaded");
            var identical = result.AsSpan().SequenceEqual(reference);
            results.Add(new Trial(entry, flips, identical, null, !identical));
        }
        return results;
    }

    private static void Progress(string line)
    {
        if (Environment.GetEnvironmentVariable("MLDX_FUZZ_PROGRESS") is { } path)
            File.AppendAllText(path, line + Environment.NewLine);
    }

    /// <summary>One line per entry: trials, identical, each exception type's count.</summary>
    public static string Summary(IReadOnlyList<Trial> trials) => string.Join(Environment.NewLine, trials.GroupBy(t => t.Entry).Select(g =>
        $"{g.Key}: {g.Count()} trials, {g.Count(t => t.Identical)} identical, {g.Count(t => t.Silent)} SILENTLY DIFFERENT, " +
        string.Join(", ", g.Where(t => t.Error is not null).GroupBy(t => Describe(t.Error!)).Select(e => $"{e.Count()} × {e.Key}"))));

    /// <summary>The exception's type, and its inner exceptions' types, outermost first.</summary>
    public static string Describe(Exception ex)
    {
        var types = new List<string>();
        for (Exception? e = ex; e is not null; e = e.InnerException)
            types.Add(e.GetType().Name);
        return string.Join(" > ", types);
    }

    /// <summary>
    /// The contract for a damaged zip: loading (or scoring) throws an exception that is, or wraps (ML.NET wraps what a
    /// loader throws in a TargetInvocationException), an <see cref="InvalidDataException"/> — our formats: "The model is
    /// damaged: zip entry …" — or what ML.NET throws for its own parts of a model stream: a <see cref="FormatException"/>
    /// (its stream header, version and string-table checks) or a <see cref="FileNotFoundException"/> /
    /// <see cref="FileLoadException"/> (a loader-assembly name it cannot load).
    /// </summary>
    public static bool IsClear(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is InvalidDataException or FormatException or FileNotFoundException or FileLoadException)
                return true;
        }
        return false;
    }

    /// <summary>Asserts the contract: no trial is silently different, and every exception is a clear one (<paramref name="clear"/>).</summary>
    public static void AssertContract(IReadOnlyList<Trial> trials, Func<Exception, bool> clear)
    {
        var silent = trials.Where(t => t.Silent).ToArray();
        Assert.True(silent.Length == 0, $"{silent.Length} damaged zips loaded and gave different outputs without an exception: " +
                                        string.Join("; ", silent.Select(t => $"{t.Entry} ({t.Flips} bytes)")));
        var unclear = trials.Where(t => t.Error is not null && !clear(t.Error)).ToArray();
        Assert.True(unclear.Length == 0, $"{unclear.Length} damaged zips failed with an exception outside the contract: " +
                                         string.Join(Environment.NewLine, unclear.Take(5).Select(t => $"{t.Entry}: {t.Error}")));
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>
/// Issue 10, fuzz proof for the network format: random bytes flipped in every entry of a saved zip either make loading
/// fail clearly or change nothing; never a silently different prediction, never a native crash (the tokenizer and
/// language-model formats are fuzzed the same way in the text tests).
/// </summary>
/// <remarks>
/// The contract for a damaged zip is <see cref="ZipFuzzer.IsClear"/>: an InvalidDataException naming the entry from our
/// formats, or ML.NET's own FormatException / FileNotFoundException / FileLoadException for its parts of a model stream.
/// Entries no reader looks at (TrainingInfo/Version.txt) change nothing.
/// </remarks>
[Trait("Category", "Reliability")]
public sealed class ModelZipFuzzTests(DigitsModel digits, ITestOutputHelper output) : IClassFixture<DigitsModel>
{
    [Fact]
    public void FlippedBytesInEveryEntry_FailClearlyOrChangeNothing()
    {
        var clock = Stopwatch.StartNew();
        var trials = ZipFuzzer.Run(digits.Zip, digits.Directory, trials: 240, seed: 10, zip =>
        {
            var model = new MLContext().Model.Load(zip, out _);
            try
            {
                var scored = model.Transform(digits.Test);
                var scores = scored.GetColumn<VBuffer<float>>("Score").SelectMany(v => v.DenseValues());
                var labels = scored.GetColumn<uint>("PredictedLabel");
                return scores.SelectMany(BitConverter.GetBytes).Concat(labels.SelectMany(BitConverter.GetBytes)).ToArray();
            }
            finally
            {
                (model as IDisposable)?.Dispose();
            }
        });
        output.WriteLine($"{trials.Count} trials in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(ZipFuzzer.Summary(trials));

        Assert.True(trials.Count >= 200);
        Assert.Equal(ZipFuzzer.FuzzedEntries(digits.Zip).Length, trials.Select(t => t.Entry).Distinct().Count());
        ZipFuzzer.AssertContract(trials, ZipFuzzer.IsClear);
    }
}

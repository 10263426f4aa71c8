using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.Audio.Data;

namespace ML.DeepExtensions.Audio.Tests;

/// <summary>A row of the generated corpus as ML.NET sees it before LoadAudio.</summary>
public sealed class ClipRow
{
    public string AudioPath { get; set; } = "";

    public string Transcript { get; set; } = "";
}

/// <summary>A row with samples already loaded.</summary>
public sealed class SampleRow
{
    [Microsoft.ML.Data.VectorType]
    public float[] Audio { get; set; } = [];

    public string Transcript { get; set; } = "";
}

/// <summary>The espeak-ng corpus in a per-machine temp folder (generated once, reused by every test class).</summary>
internal static class Corpus
{
    public static readonly string Folder = Path.Combine(Path.GetTempPath(), "mldx-audio-tests-corpus");

    public static IReadOnlyList<SpokenClip> Training(int clips, int seed = 1, int maxWords = 2) => SpokenCorpus.Generate(Folder, SpokenCorpus.TrainingVoices, clips, seed, maxWords);

    public static IReadOnlyList<SpokenClip> Test(int clips, int seed = 2, int maxWords = 2) => SpokenCorpus.Generate(Folder, SpokenCorpus.TestVoices, clips, seed, maxWords);

    public static IDataView Paths(MLContext ml, IEnumerable<SpokenClip> clips)
        => ml.Data.LoadFromEnumerable(clips.Select(c => new ClipRow { AudioPath = c.Path, Transcript = c.Transcript }).ToArray());

    /// <summary>Samples at 16 kHz through LoadAudio, cached in memory.</summary>
    public static IDataView Loaded(MLContext ml, IEnumerable<SpokenClip> clips)
    {
        var paths = Paths(ml, clips);
        var loaded = ml.Transforms.LoadAudio("Audio", "AudioPath").Fit(paths).Transform(paths);
        return ml.Data.Cache(loaded);
    }

    public static float[] Samples(SpokenClip clip) => WavAudio.Read(clip.Path, 16000);
}

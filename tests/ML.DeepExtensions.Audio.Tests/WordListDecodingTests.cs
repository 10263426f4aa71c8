using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Xunit;

namespace ML.DeepExtensions.Audio.Tests;

/// <summary>Prefix beam search biased by a word list, on constructed frame scores (no network), and its options.</summary>
public sealed class WordListDecodingTests
{
    private const string Characters = "abcdefghijklmnopqrstuvwxyz ";

    private static readonly string[] Listed =
    [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
    ];

    private static readonly CharacterVocabulary Vocabulary = new(Characters);

    private static int Id(char c) => Characters.IndexOf(c) + 1;

    /// <summary>
    /// Log-probabilities of frames, each a map from characters ('_' = blank) to probabilities; what a frame does not name
    /// shares the rest equally.
    /// </summary>
    private static float[] Frames(params (char Class, double P)[][] frames)
    {
        var classes = Characters.Length + 1;
        var scores = new List<float>();
        foreach (var frame in frames)
        {
            var named = frame.ToDictionary(f => f.Class == '_' ? 0 : Id(f.Class), f => f.P);
            var rest = (1 - named.Values.Sum()) / (classes - named.Count);
            scores.AddRange(Enumerable.Range(0, classes).Select(c => (float)Math.Log(named.TryGetValue(c, out var p) ? p : rest)));
        }
        return scores.ToArray();
    }

    /// <summary>A clear frame for one character (or '_' for the blank).</summary>
    private static (char, double)[] Clear(char c) => [(c, 0.9)];

    /// <summary>"five" heard as "fife": the third letter's frame favours 'f' (0.5) over 'v' (0.4).</summary>
    private static float[] FifeOrFive(double f = 0.5, double v = 0.4)
        => Frames(Clear('f'), Clear('_'), Clear('i'), Clear('_'), [('f', f), ('v', v)], Clear('_'), Clear('e'), Clear('_'));

    private static string Decode(float[] scores, CtcWordList? words, int beamWidth = 8)
        => Vocabulary.Decode(CtcDecoding.PrefixBeamSearch(scores, scores.Length / Vocabulary.Classes, Vocabulary.Classes, beamWidth, words));

    private static CtcWordList Words(double penalty = double.PositiveInfinity) => CtcWordList.From(Listed, Vocabulary, penalty);

    [Fact]
    public void WordListBeam_FixesAMisspellingTheUnbiasedBeamMakes()
    {
        var scores = FifeOrFive();
        Assert.Equal("fife", Decode(scores, null));
        Assert.Equal("fife", Vocabulary.Decode(CtcDecoding.Greedy(scores, scores.Length / Vocabulary.Classes, Vocabulary.Classes)));
        Assert.Equal("five", Decode(scores, Words()));
    }

    [Fact]
    public void WordListBeam_FixesTheSecondWordOfTwo()
    {
        // "seven nine" heard as "seven nina": the last vowel's frame favours 'a' (0.55) over 'e' (0.35).
        var frames = "seven".Select(Clear).Append(Clear('_')).Append(Clear(' ')).Append(Clear('_'))
            .Concat("nin".SelectMany(c => new[] { Clear(c), Clear('_') })).Append([('a', 0.55), ('e', 0.35)]).ToArray();
        var scores = Frames(frames);
        Assert.Equal("seven nina", Decode(scores, null));
        Assert.Equal("seven nine", Decode(scores, Words()));
    }

    [Fact]
    public void WordListBeam_LeavesListedOutputUnchanged()
    {
        // Noisy scores of random listed transcripts: whenever the unbiased beam already gives listed words, the word list
        // must not change its answer (hard list and a finite penalty alike). Most cases are such (checked below).
        var random = new Random(5);
        var unchanged = 0;
        for (var n = 0; n < 100; n++)
        {
            var transcript = string.Join(' ', Enumerable.Range(0, random.Next(1, 3)).Select(_ => Listed[random.Next(Listed.Length)]));
            var frames = new List<(char, double)[]>();
            foreach (var c in transcript)
            {
                var p = 0.45 + 0.5 * random.NextDouble();
                var rival = Characters[random.Next(Characters.Length)];
                frames.Add(rival == c ? [(c, p)] : [(c, p), (rival, (1 - p) * 0.8)]);
                frames.Add([('_', 0.5 + 0.45 * random.NextDouble())]);
            }
            var scores = Frames(frames.ToArray());
            var plain = Decode(scores, null);
            if (plain.Split(' ').All(w => Listed.Contains(w)))
            {
                Assert.Equal(plain, Decode(scores, Words()));
                Assert.Equal(plain, Decode(scores, Words(penalty: 3)));
                unchanged++;
            }
        }
        Assert.True(unchanged >= 40, $"only {unchanged} of 100 cases gave listed words unbiased; the test checks too little");
    }

    [Fact]
    public void WordListBeam_PenaltyZero_EqualsUnbiased_AndAFinitePenaltyKeepsAClearlyHeardUnlistedWord()
    {
        var random = new Random(9);
        for (var n = 0; n < 20; n++)
        {
            var scores = Enumerable.Range(0, 12 * Vocabulary.Classes).Select(_ => (float)Math.Log(0.01 + random.NextDouble())).ToArray();
            Assert.Equal(Decode(scores, null), Decode(scores, Words(penalty: 0)));
        }
        // 'f' heard at 0.95 against 'v' at 0.03: "fife" is ~3.4 nats likelier than "five" — a penalty of 1 keeps it, +∞ does not.
        var clear = FifeOrFive(f: 0.95, v: 0.03);
        Assert.Equal("fife", Decode(clear, Words(penalty: 1)));
        Assert.Equal("five", Decode(clear, Words()));
        // The marginal case of the first test is fixed by a penalty of 1 as well.
        Assert.Equal("five", Decode(FifeOrFive(), Words(penalty: 1)));
    }

    [Fact]
    public void WordList_BadWords_ThrowNamingTheWord()
    {
        Assert.Contains("'é'", Assert.Throws<ArgumentException>(() => CtcWordList.From(["zéro"], Vocabulary, double.PositiveInfinity)).Message);
        Assert.Contains("WordList[1]", Assert.Throws<ArgumentException>(() => CtcWordList.From(["one", "two three"], Vocabulary, double.PositiveInfinity)).Message);
        Assert.Contains("WordList[0]", Assert.Throws<ArgumentException>(() => CtcWordList.From([""], Vocabulary, double.PositiveInfinity)).Message);
        Assert.Contains("at least one word", Assert.Throws<ArgumentException>(() => CtcWordList.From([], Vocabulary, double.PositiveInfinity)).Message);
        Assert.Contains("OutOfListWordPenalty", Assert.ThrowsAny<ArgumentException>(() => CtcWordList.From(["one"], Vocabulary, -1)).Message);
        Assert.Contains("OutOfListWordPenalty", Assert.ThrowsAny<ArgumentException>(() => CtcWordList.From(["one"], Vocabulary, double.NaN)).Message);
        // In class ids: a class the scores do not have.
        var ids = new CtcWordList([new[] { 40 }], separator: -1);
        Assert.Contains("class 40", Assert.Throws<ArgumentException>(() => CtcDecoding.PrefixBeamSearch(new float[8], 2, 4, 4, ids)).Message);
    }

    [Fact]
    public void Options_BadWordList_ThrowsAtTheCatalogCallNamingTheOption()
    {
        var ml = new MLContext();
        SpeechRecognizerOptions With(Action<SpeechRecognizerOptions> change)
        {
            var options = new SpeechRecognizerOptions { Decoder = CtcDecoder.PrefixBeamSearch, WordList = ["yes", "no"] };
            change(options);
            return options;
        }
        var greedy = Assert.ThrowsAny<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(With(o => o.Decoder = CtcDecoder.Greedy)));
        Assert.Contains("Decoder = PrefixBeamSearch", greedy.Message);
        Assert.Contains("WordList", Assert.ThrowsAny<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(With(o => o.WordList = []))).Message);
        Assert.Contains("WordList[1]", Assert.ThrowsAny<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(With(o => o.WordList = ["yes", "no way"]))).Message);
        Assert.Contains("OutOfListWordPenalty", Assert.ThrowsAny<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(With(o => o.OutOfListWordPenalty = -0.5))).Message);
        var outside = Assert.ThrowsAny<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(With(o => { o.Vocabulary = "abcdefghijklmnopqrstuvwxyz "; o.WordList = ["yes", "No"]; })));
        Assert.Contains("'N'", outside.Message);
        Assert.Contains("WordList[1]", outside.Message);
        // A good list passes.
        _ = ml.SpeechRecognition().Trainers.SpeechRecognizer(With(_ => { }));
    }

    [Fact]
    public void Fit_WordOutsideTheTranscriptsVocabulary_ThrowsBeforeTraining()
    {
        // The vocabulary comes from the transcripts ("yes", "no"): "nine" needs 'i', which the model could never output.
        var ml = new MLContext(seed: 1);
        var random = new Random(1);
        var rows = new[] { "yes", "no" }.Select(t => new SampleRow { Audio = Enumerable.Range(0, 8000).Select(_ => (float)(random.NextDouble() - 0.5) * 0.2f).ToArray(), Transcript = t }).ToArray();
        var options = new SpeechRecognizerOptions { Epochs = 1, NumberOfThreads = 1, Decoder = CtcDecoder.PrefixBeamSearch, WordList = ["yes", "nine"] };
        var error = Assert.Throws<ArgumentException>(() => ml.SpeechRecognition().Trainers.SpeechRecognizer(options).Fit(ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("WordList[1]", error.Message);
        Assert.Contains("'i'", error.Message);
    }
}

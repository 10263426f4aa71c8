using System;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using ML.DeepExtensions.Text.Tokenization;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Text.Tests.Reliability;

/// <summary>
/// Hostile input: 1 MB of one repeated character is one pre-token, and BPE of one pre-token is quadratic in its length
/// (GPT-2 took over 120 s). The transform keeps 128 tokens, so its work must be bounded by them: each kind, each
/// character, each truncation side, under a generous absolute limit for a loaded 2-core machine and well under the
/// 100× that quadratic time would cost over 100 KB.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class TokenizerScalingTests : IClassFixture<TokenizerFactory>
{
    private const int MaxLength = 128;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);
    private static readonly string[] Characters = ["a", " ", "-", "!", "日", "🙂", "Ã"];

    private readonly TokenizerFactory _factory;
    private readonly ITestOutputHelper _output;

    public TokenizerScalingTests(TokenizerFactory factory, ITestOutputHelper output)
    {
        _factory = factory;
        _output = output;
    }

    public static TheoryData<string> Kinds => TokenizerFactory.KindData;

    [Theory]
    [MemberData(nameof(Kinds))]
    public void OneMegabyteOfOneCharacter_TokenizesInTimeBoundedByMaxLength(string kind)
    {
        foreach (var truncation in new[] { TruncationSide.KeepFirst, TruncationSide.KeepLast })
        {
            var transformer = _factory.Create(kind, MaxLength, truncation);
            Time(transformer, "warm-up " + new string('a', 1000));
            foreach (var character in Characters)
            {
                var small = Time(transformer, Repeat(character, 100_000));
                var large = Time(transformer, Repeat(character, 1_000_000));
                _output.WriteLine($"{kind} {truncation} '{character}': 100 KB {small.TotalMilliseconds:F0} ms, 1 MB {large.TotalMilliseconds:F0} ms");
                Assert.True(large < Limit, $"{kind} {truncation}: 1 MB of '{character}' took {large.TotalSeconds:F1} s (limit {Limit.TotalSeconds} s).");
                // Linear, not quadratic: 10× the text in well under 100× the time (small times floored at 20 ms against timer noise).
                var floor = TimeSpan.FromMilliseconds(20);
                Assert.True(large < 30 * (small > floor ? small : floor),
                    $"{kind} {truncation}: 1 MB of '{character}' took {large.TotalMilliseconds:F0} ms, 100 KB {small.TotalMilliseconds:F0} ms.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void OneMegabyteOfRealText_TokenizesInTimeBoundedByMaxLength(string kind)
    {
        var emails = string.Join("\n\n", Classification.TextData.Emails.Select(e => e.Text));
        foreach (var truncation in new[] { TruncationSide.KeepFirst, TruncationSide.KeepLast })
        {
            var transformer = _factory.Create(kind, MaxLength, truncation);
            Time(transformer, "warm-up " + emails[..1000]);
            var small = Time(transformer, Repeat(emails, 100_000));
            var large = Time(transformer, Repeat(emails, 1_000_000));
            _output.WriteLine($"{kind} {truncation} e-mails: 100 KB {small.TotalMilliseconds:F0} ms, 1 MB {large.TotalMilliseconds:F0} ms");
            Assert.True(large < Limit, $"{kind} {truncation}: 1 MB of e-mails took {large.TotalSeconds:F1} s (limit {Limit.TotalSeconds} s).");
        }
    }

    /// <summary>Time to tokenize one row; a run that outlives the limit is abandoned and reported as the limit plus one second.</summary>
    private TimeSpan Time(TokenizingTransformer transformer, string text)
    {
        var watch = Stopwatch.StartNew();
        var run = Task.Run(() => _factory.Transform(transformer, text));
        if (!run.Wait(Limit + TimeSpan.FromSeconds(1)))
            return Limit + TimeSpan.FromSeconds(1);
        Assert.Equal(MaxLength, run.Result.Length);
        return watch.Elapsed;
    }

    /// <summary>The first <paramref name="chars"/> chars of <paramref name="run"/> repeated (never cutting a surrogate pair).</summary>
    private static string Repeat(string run, int chars)
    {
        var text = new StringBuilder(chars + run.Length).Insert(0, run, chars / run.Length + 1).ToString(0, chars);
        return char.IsHighSurrogate(text[^1]) ? text[..^1] : text;
    }
}

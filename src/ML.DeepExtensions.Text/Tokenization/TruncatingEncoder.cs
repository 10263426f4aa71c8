using System;
using System.Collections.Generic;
using System.Linq;

namespace ML.DeepExtensions.Text.Tokenization;

/// <summary>Encodes one pre-token of already normalized text, without pre-tokenizing or normalizing it again.</summary>
internal delegate IReadOnlyList<int> PieceEncoder(ReadOnlySpan<char> piece);

/// <summary>
/// Token ids of a text truncated to a row's room, with work bounded by the room rather than by the text.
/// </summary>
/// <remarks>
/// <para>
/// The tokenizers encode each pre-token on its own, so a text's ids are the concatenation of its pre-tokens' ids.
/// Pre-tokens are encoded from the kept end (the first ones for <see cref="TruncationSide.KeepFirst"/>, the last ones
/// for <see cref="TruncationSide.KeepLast"/>) until the room is full; the others are never encoded. The kept ids are
/// the ones the whole text's encoding would keep.
/// </para>
/// <para>
/// One pre-token can be long (a run of one character is a single pre-token), and BPE of one pre-token takes time
/// quadratic in its length. A pre-token longer than <see cref="LongPieceLength"/> chars is first scanned by
/// <see cref="TokenSpanBounds"/>; when the scan proves that the pre-token alone has more tokens than the room left plus
/// <see cref="WindowMargin"/>, only the scanned window at its kept end is encoded and its tokens nearest the kept end
/// fill the row. Such a text cannot fit, so this never changes the ids of a text that fits: the rule only decides which
/// ids an over-long text keeps.
/// </para>
/// <para>
/// With <see cref="TruncationSide.KeepFirst"/> the window starts where the pre-token starts. BPE merges the leftmost of
/// equally ranked pairs first, so the window is tokenized as the whole pre-token is except near its far edge, at least
/// <see cref="WindowMargin"/> tokens beyond the kept ones: the tests find the rows equal to the whole encoding's on every
/// text tried. With <see cref="TruncationSide.KeepLast"/> the window starts inside the pre-token and its merges can pair
/// characters differently all along (a run of one character splits into tokens at other offsets): the row is still
/// full and still the encoding of the text's last characters, but its ids can differ from the whole encoding's.
/// </para>
/// </remarks>
internal static class TruncatingEncoder
{
    /// <summary>Pre-tokens up to this many chars are encoded whole, without a proof.</summary>
    public const int LongPieceLength = 256;

    /// <summary>Tokens a window holds beyond the room (proven), so that its far edge stays away from the kept tokens.</summary>
    public const int WindowMargin = 16;

    /// <summary>At most <paramref name="maxTokens"/> ids: the first or last of the text's encoding, per <paramref name="side"/>.</summary>
    public static List<int> Encode(string text, IEnumerable<(int Offset, int Length)> pieces, int maxTokens, TruncationSide side,
        PieceEncoder encode, Func<TokenSpanBounds>? bounds)
        => side == TruncationSide.KeepLast
            ? EncodeLast(text, pieces as IReadOnlyList<(int Offset, int Length)> ?? pieces.ToList(), maxTokens, encode, bounds)
            : EncodeFirst(text, pieces, maxTokens, encode, bounds);

    private static List<int> EncodeFirst(string text, IEnumerable<(int Offset, int Length)> pieces, int maxTokens, PieceEncoder encode, Func<TokenSpanBounds>? bounds)
    {
        var kept = new List<int>(Math.Min(maxTokens, 1024));
        foreach (var (offset, length) in pieces)
        {
            var piece = text.AsSpan(offset, length);
            var room = maxTokens - kept.Count;
            var window = length > LongPieceLength && bounds is not null ? bounds().OverflowLength(piece, room + WindowMargin, fromEnd: false) : -1;
            var ids = encode(window < 0 ? piece : piece[..window]);
            for (var i = 0; i < ids.Count && kept.Count < maxTokens; i++)
                kept.Add(ids[i]);
            if (kept.Count >= maxTokens)
                break;
        }
        return kept;
    }

    private static List<int> EncodeLast(string text, IReadOnlyList<(int Offset, int Length)> pieces, int maxTokens, PieceEncoder encode, Func<TokenSpanBounds>? bounds)
    {
        var encoded = new List<IReadOnlyList<int>>();
        var count = 0;
        for (var p = pieces.Count - 1; p >= 0 && count < maxTokens; p--)
        {
            var (offset, length) = pieces[p];
            var piece = text.AsSpan(offset, length);
            var window = length > LongPieceLength && bounds is not null ? bounds().OverflowLength(piece, maxTokens - count + WindowMargin, fromEnd: true) : -1;
            var ids = encode(window < 0 ? piece : piece[^window..]);
            encoded.Add(ids);
            count += ids.Count;
        }
        var kept = new List<int>(Math.Min(count, maxTokens));
        var skip = Math.Max(0, count - maxTokens);
        for (var p = encoded.Count - 1; p >= 0; p--)
        {
            foreach (var id in encoded[p])
            {
                if (skip > 0)
                    skip--;
                else
                    kept.Add(id);
            }
        }
        return kept;
    }
}

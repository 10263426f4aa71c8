using System;
using System.Collections.Generic;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace ML.DeepExtensions.Text.Tokenization;

/// <summary>
/// Proves, without running BPE on it, that a long pre-token yields more tokens than a row has room for — so that
/// only a bounded window of it needs encoding (BPE of one pre-token is quadratic in its length in Microsoft.ML.Tokenizers).
/// </summary>
/// <remarks>
/// <para>
/// Every token BPE outputs is a vocabulary entry covering consecutive units of the pre-token: UTF-8 bytes for
/// Tiktoken and byte-level BPE, UTF-16 chars for classic BPE. A token that starts with unit <c>u</c> covers at most
/// <c>first[u]</c> units (the longest vocabulary entry starting with <c>u</c>); one that ends with <c>u</c> at most
/// <c>last[u]</c>. Units that no token can contain (characters classic or byte-level BPE drops because they are missing
/// from the vocabulary and there is no unknown token) cost nothing.
/// </para>
/// <para>
/// The BPE tokens of a pre-token that touch its first <c>m</c> units therefore number at least the fewest intervals of
/// those lengths that cover the <c>m</c> units, which a greedy scan counts exactly (interval covering). Once that count
/// passes the room left in the row, the pre-token cannot fit whatever BPE does with the rest, and the scanned window
/// alone still yields more tokens than the room (its own tokens cover it under the same bounds). The scan stops there,
/// so its cost and the window's length are bounded by the room, not by the pre-token.
/// </para>
/// </remarks>
internal sealed class TokenSpanBounds
{
    private readonly bool _utf8;
    private readonly int[] _first;
    private readonly int[] _last;

    // Classic BPE only: code points that are vocabulary entries by themselves, and the bounds of an unknown code point
    // (the unknown token's, or 0 when unknown characters are dropped).
    private readonly HashSet<int>? _knownCodePoints;
    private readonly int _unknownFirst;
    private readonly int _unknownLast;

    private TokenSpanBounds(bool utf8, int[] first, int[] last, HashSet<int>? knownCodePoints = null, int unknownFirst = 0, int unknownLast = 0)
    {
        _utf8 = utf8;
        _first = first;
        _last = last;
        _knownCodePoints = knownCodePoints;
        _unknownFirst = unknownFirst;
        _unknownLast = unknownLast;
    }

    /// <summary>
    /// Bounds of a Tiktoken vocabulary, read through its public decoder: a token's decoded text is re-encoded as UTF-8.
    /// Where the token is not valid UTF-8 on its own, each maximal invalid sequence (1–3 bytes) decodes to U+FFFD,
    /// whose 3 bytes are at least as many, so the length is an upper bound; a token whose text starts (ends) with U+FFFD
    /// may start (end) with any non-ASCII byte, so it bounds all of those. Every single byte is a Tiktoken token, so
    /// no byte is dropped.
    /// </summary>
    public static TokenSpanBounds ForTiktoken(TiktokenTokenizer tokenizer, int largestId)
    {
        var first = new int[256];
        var last = new int[256];
        Array.Fill(first, 1);
        Array.Fill(last, 1);
        var ids = new int[1];
        for (var id = 0; id <= largestId; id++)
        {
            ids[0] = id;
            var text = tokenizer.Decode(ids);
            if (string.IsNullOrEmpty(text))
                continue;
            var bytes = Encoding.UTF8.GetBytes(text);
            Raise(first, text[0] == '\uFFFD' ? null : bytes[0], bytes.Length);
            Raise(last, text[^1] == '\uFFFD' ? null : bytes[^1], bytes.Length);
        }
        return new TokenSpanBounds(utf8: true, first, last);
    }

    /// <summary>
    /// Bounds of a byte-level BPE vocabulary (GPT-2's byte-to-character alphabet). Entries with a character outside that
    /// alphabet can never be produced by merging byte symbols and are ignored; a byte whose symbol is missing from the
    /// vocabulary is dropped by the tokenizer (no unknown token in byte-level mode), so it costs nothing.
    /// </summary>
    public static TokenSpanBounds ForByteLevel(IReadOnlyDictionary<string, int> vocabulary)
    {
        var first = new int[256];
        var last = new int[256];
        foreach (var token in vocabulary.Keys)
        {
            if (token.Length == 0 || !ByteLevelAlphabet.TryGetByte(token[0], out var head) || !ByteLevelAlphabet.TryGetByte(token[^1], out var tail))
                continue;
            first[head] = Math.Max(first[head], token.Length);
            last[tail] = Math.Max(last[tail], token.Length);
        }
        // A byte with a symbol has bound ≥ 1 (its own one-symbol entry); one without stays 0 and is dropped.
        return new TokenSpanBounds(utf8: true, first, last);
    }

    /// <summary>
    /// Bounds of a classic BPE vocabulary (symbols are code points; no continuing-subword prefix or end-of-word suffix).
    /// A token's covered text can be longer than its string only through the unknown token, which covers one code
    /// point (at most 2 chars): with a one-char unknown token every bound is doubled.
    /// </summary>
    public static TokenSpanBounds ForClassicBpe(IReadOnlyDictionary<string, int> vocabulary, string? unknownToken)
    {
        var first = new int[char.MaxValue + 1];
        var last = new int[char.MaxValue + 1];
        var known = new HashSet<int>();
        foreach (var token in vocabulary.Keys)
        {
            if (token.Length == 0)
                continue;
            first[token[0]] = Math.Max(first[token[0]], token.Length);
            last[token[^1]] = Math.Max(last[token[^1]], token.Length);
            if (token.Length == 1)
                known.Add(token[0]);
            else if (token.Length == 2 && char.IsSurrogatePair(token[0], token[1]))
                known.Add(char.ConvertToUtf32(token[0], token[1]));
        }
        var slack = unknownToken is { Length: 1 } ? 2 : 1;
        if (slack > 1)
        {
            for (var c = 0; c < first.Length; c++)
            {
                first[c] *= slack;
                last[c] *= slack;
            }
        }
        var unknownFirst = string.IsNullOrEmpty(unknownToken) ? 0 : Math.Max(first[unknownToken[0]], slack);
        var unknownLast = string.IsNullOrEmpty(unknownToken) ? 0 : Math.Max(last[unknownToken[^1]], slack);
        return new TokenSpanBounds(utf8: false, first, last, known, unknownFirst, unknownLast);
    }

    /// <summary>The most units a token starting (or, with <paramref name="fromEnd"/>, ending) with <paramref name="unit"/> covers.</summary>
    public int Bound(int unit, bool fromEnd) => (fromEnd ? _last : _first)[unit];

    /// <summary>
    /// How many chars of <paramref name="piece"/>, counted from its start (or its end when <paramref name="fromEnd"/>),
    /// are proven to hold more than <paramref name="maxTokens"/> tokens; -1 when the whole piece gives no such proof.
    /// The count always ends on a code-point boundary.
    /// </summary>
    public int OverflowLength(ReadOnlySpan<char> piece, int maxTokens, bool fromEnd)
    {
        var cover = new CoverCount(maxTokens);
        Span<int> bounds = stackalloc int[4];
        var consumed = 0;
        while (consumed < piece.Length)
        {
            var rest = fromEnd ? piece[..^consumed] : piece[consumed..];
            var units = _utf8 ? Utf8Bounds(rest, fromEnd, bounds, out var chars) : CharBounds(rest, fromEnd, bounds, out chars);
            var overflow = false;
            for (var k = 0; k < units; k++)
                overflow |= cover.Add(bounds[k]);
            consumed += chars;
            if (overflow)
                return consumed;
        }
        return -1;
    }

    /// <summary>The bounds of the UTF-8 bytes of the first (last) code point, in scan order, as Microsoft.ML.Tokenizers encodes it.</summary>
    private int Utf8Bounds(ReadOnlySpan<char> text, bool fromEnd, Span<int> bounds, out int chars)
    {
        Span<byte> bytes = stackalloc byte[4];
        var count = Utf8.CodePoint(text, fromEnd, bytes, out chars);
        var table = fromEnd ? _last : _first;
        for (var k = 0; k < count; k++)
            bounds[k] = table[bytes[fromEnd ? count - 1 - k : k]];
        return count;
    }

    private int CharBounds(ReadOnlySpan<char> text, bool fromEnd, Span<int> bounds, out int chars)
    {
        int codePoint;
        if (fromEnd)
        {
            chars = text.Length >= 2 && char.IsSurrogatePair(text[^2], text[^1]) ? 2 : 1;
            codePoint = chars == 2 ? char.ConvertToUtf32(text[^2], text[^1]) : text[^1];
        }
        else
        {
            chars = text.Length >= 2 && char.IsSurrogatePair(text[0], text[1]) ? 2 : 1;
            codePoint = chars == 2 ? char.ConvertToUtf32(text[0], text[1]) : text[0];
        }
        int bound;
        if (_knownCodePoints!.Contains(codePoint))
            bound = fromEnd ? _last[text[^1]] : _first[text[0]];
        else
            bound = fromEnd ? _unknownLast : _unknownFirst;
        bounds[..chars].Fill(bound);
        return chars;
    }

    private static void Raise(int[] table, byte? unit, int length)
    {
        if (unit is { } b)
        {
            table[b] = Math.Max(table[b], length);
            return;
        }
        for (var any = 0x80; any < 256; any++)
            table[any] = Math.Max(table[any], length);
    }

    /// <summary>
    /// Greedy interval cover: the fewest tokens that can cover the units added so far, when a token starting at a unit
    /// covers at most that unit's bound and a unit of bound 0 needs no token.
    /// </summary>
    private struct CoverCount
    {
        private readonly int _maxTokens;
        private long _position;
        private long _covered;
        private long _reach;
        private int _count;

        public CoverCount(int maxTokens) => _maxTokens = maxTokens;

        /// <summary>Adds the next unit; true once the units added need more than the maximum number of tokens.</summary>
        public bool Add(int bound)
        {
            var position = _position++;
            if (bound == 0)
            {
                if (position == _covered)
                    _covered = position + 1;
                return _count > _maxTokens;
            }
            _reach = Math.Max(_reach, position + bound);
            if (position >= _covered)
            {
                _count++;
                _covered = _reach;
            }
            return _count > _maxTokens;
        }
    }
}

/// <summary>UTF-8 as Microsoft.ML.Tokenizers produces it for Tiktoken and byte-level BPE (a lone surrogate gives its 3-byte form).</summary>
internal static class Utf8
{
    /// <summary>Writes the bytes of the first (or last) code point of <paramref name="text"/>; returns their count.</summary>
    public static int CodePoint(ReadOnlySpan<char> text, bool fromEnd, Span<byte> bytes, out int chars)
    {
        uint value;
        if (fromEnd)
        {
            chars = text.Length >= 2 && char.IsSurrogatePair(text[^2], text[^1]) ? 2 : 1;
            value = chars == 2 ? (uint)char.ConvertToUtf32(text[^2], text[^1]) : text[^1];
        }
        else
        {
            chars = text.Length >= 2 && char.IsSurrogatePair(text[0], text[1]) ? 2 : 1;
            value = chars == 2 ? (uint)char.ConvertToUtf32(text[0], text[1]) : text[0];
        }
        if (value <= 0x7F)
        {
            bytes[0] = (byte)value;
            return 1;
        }
        if (value <= 0x7FF)
        {
            bytes[0] = (byte)(0xC0 | (value >> 6));
            bytes[1] = (byte)(0x80 | (value & 0x3F));
            return 2;
        }
        if (value <= 0xFFFF)
        {
            bytes[0] = (byte)(0xE0 | (value >> 12));
            bytes[1] = (byte)(0x80 | ((value >> 6) & 0x3F));
            bytes[2] = (byte)(0x80 | (value & 0x3F));
            return 3;
        }
        bytes[0] = (byte)(0xF0 | (value >> 18));
        bytes[1] = (byte)(0x80 | ((value >> 12) & 0x3F));
        bytes[2] = (byte)(0x80 | ((value >> 6) & 0x3F));
        bytes[3] = (byte)(0x80 | (value & 0x3F));
        return 4;
    }
}

/// <summary>GPT-2's reversible byte-to-character alphabet (OpenAI's <c>bytes_to_unicode</c>), which byte-level BPE vocabularies are written in.</summary>
internal static class ByteLevelAlphabet
{
    private static readonly Dictionary<char, byte> Bytes = Build();

    public static bool TryGetByte(char symbol, out byte value) => Bytes.TryGetValue(symbol, out value);

    private static Dictionary<char, byte> Build()
    {
        var map = new Dictionary<char, byte>(256);
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[printable ? (char)b : (char)next++] = (byte)b;
        }
        return map;
    }
}

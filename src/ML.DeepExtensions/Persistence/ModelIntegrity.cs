using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace ML.DeepExtensions.Persistence;

/// <summary>
/// The integrity record a model stream carries from the format versions that require it (network and language model v3,
/// tokenizer v2): the SHA-256 of the JSON header and of every binary stream the format writes beside it, written as a
/// second JSON string right after the header and verified on load before anything else is parsed. .NET's
/// <c>ZipArchive</c> does not check CRCs on read, so without it a flipped byte loads and predicts differently, silently.
/// It detects damage, not forgery: whoever edits a zip can recompute the hashes, which is why loaders also validate
/// every header field against the network they build.
/// </summary>
/// <param name="Algorithm">Always <see cref="Sha256"/>.</param>
/// <param name="Header">Lower-case hex SHA-256 of the header's UTF-8 JSON.</param>
/// <param name="Streams">Lower-case hex SHA-256 of each binary stream's bytes, by stream name.</param>
internal sealed record IntegrityRecord(string Algorithm, string Header, Dictionary<string, string> Streams)
{
    public const string Sha256 = "SHA-256";

    /// <summary>The record of <paramref name="headerJson"/> and <paramref name="streams"/>.</summary>
    public static IntegrityRecord Of(string headerJson, IEnumerable<(string Name, byte[] Content)> streams)
    {
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, content) in streams)
            hashes.Add(name, Hash(content));
        return new IntegrityRecord(Sha256, Hash(Encoding.UTF8.GetBytes(headerJson)), hashes);
    }

    /// <summary>Lower-case hex SHA-256 of <paramref name="bytes"/>.</summary>
    public static string Hash(ReadOnlySpan<byte> bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
}

/// <summary>One message shape for every damaged model: what is wrong, in which zip entry.</summary>
internal static class ModelDamage
{
    /// <summary><c>The model is damaged: zip entry 'TransformerChain/Weights.bin' (the network weights) {problem}.</c></summary>
    public static InvalidDataException At(string entry, string problem, Exception? inner = null)
        => new($"The model is damaged: zip entry '{entry}' {problem}.", inner);

    /// <summary>The first 12 hex digits of a hash, enough to tell two apart in a message.</summary>
    public static string Short(string hash) => hash.Length > 12 ? hash[..12] + "…" : hash;
}

using System;
using System.Globalization;

namespace ML.DeepExtensions.Benchmarks;

/// <summary>Reads <c>--name value</c> options of the benchmark modes.</summary>
internal static class BenchArgs
{
    /// <summary>The text after <paramref name="name"/>, or null when the option is absent or has no value.</summary>
    public static string? Value(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>The positive integer after <paramref name="name"/>, or null when absent, not an integer or not positive.</summary>
    public static int? PositiveInt(string[] args, string name)
        => Value(args, name) is { } v && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;

    /// <summary>The positive number after <paramref name="name"/>, or null when absent, not a number or not positive.</summary>
    public static double? PositiveDouble(string[] args, string name)
        => Value(args, name) is { } v && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0 ? d : null;
}

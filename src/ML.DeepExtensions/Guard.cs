using System;
using System.Runtime.CompilerServices;

namespace ML.DeepExtensions;

/// <summary>
/// Argument checks with one message shape: what was wrong, what was expected, what was received
/// (<c>units must be positive. Received: units=0</c>).
/// </summary>
internal static class Guard
{
    public static int Positive(int value, [CallerArgumentExpression(nameof(value))] string name = "")
        => value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive. Received: {name}={value}");

    public static double Positive(double value, [CallerArgumentExpression(nameof(value))] string name = "")
        => value > 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be a positive finite number. Received: {name}={value}");

    public static long Positive(long value, [CallerArgumentExpression(nameof(value))] string name = "")
        => value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive. Received: {name}={value}");

    public static int NonNegative(int value, [CallerArgumentExpression(nameof(value))] string name = "")
        => value >= 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be zero or positive. Received: {name}={value}");

    public static double NonNegative(double value, [CallerArgumentExpression(nameof(value))] string name = "")
        => value >= 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number ≥ 0. Received: {name}={value}");

    /// <summary>Checks <paramref name="value"/> ∈ [min, max) (or [min, max] when <paramref name="maxInclusive"/>).</summary>
    public static double InRange(double value, double min, double max, bool maxInclusive = false, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        var ok = value >= min && (maxInclusive ? value <= max : value < max);
        var range = maxInclusive ? $"[{min}, {max}]" : $"[{min}, {max})";
        return ok ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be in {range}. Received: {name}={value}");
    }

    public static string NotEmpty(string? value, [CallerArgumentExpression(nameof(value))] string name = "")
        => !string.IsNullOrWhiteSpace(value) ? value : throw new ArgumentException($"{name} must be a non-empty string. Received: {name}='{value}'", name);

    public static T NotNull<T>(T? value, [CallerArgumentExpression(nameof(value))] string name = "") where T : class
        => value ?? throw new ArgumentNullException(name);

    /// <summary>Checks that <paramref name="value"/> is a named member of its enum.</summary>
    public static T Defined<T>(T value, [CallerArgumentExpression(nameof(value))] string name = "") where T : struct, Enum
        => Enum.IsDefined(value) ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be one of {string.Join(", ", Enum.GetNames<T>())}. Received: {name}={value}");
}

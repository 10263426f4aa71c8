using System;
using System.Linq;

namespace ML.DeepExtensions.Networks;

/// <summary>Helpers for shapes given as <c>int[]</c> without the batch dimension.</summary>
internal static class Shape
{
    public static string Format(int[] shape) => "(" + string.Join(", ", shape) + ")";

    public static long Size(int[] shape) => shape.Aggregate(1L, (a, d) => a * d);

    public static long[] WithBatch(long batch, int[] shape)
    {
        var result = new long[shape.Length + 1];
        result[0] = batch;
        for (var i = 0; i < shape.Length; i++)
            result[i + 1] = shape[i];
        return result;
    }

    /// <summary>Output length of a convolution or pooling window along one axis.</summary>
    public static int Window(int length, int kernel, int stride, int padding)
        => (length + 2 * padding - kernel) / stride + 1;

    public static int[] Copy(int[] shape) => (int[])shape.Clone();

    public static bool Equal(int[] a, int[] b) => a.AsSpan().SequenceEqual(b);
}

using System;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Runtime;

/// <summary>Block copies between managed memory and tensors.</summary>
internal static class HostCopy
{
    /// <summary>
    /// The values of <paramref name="tensor"/> in a managed array by one block copy of its CPU storage. TorchSharp's
    /// <c>data&lt;T&gt;().ToArray()</c> copies element by element through an indexer: ~250 ms per million values, which
    /// dominated NMS's overlap matrix and the per-token logits of generation. Intermediate tensors (a CPU or contiguous
    /// copy) belong to the caller's dispose scope.
    /// </summary>
    public static T[] ToArray<T>(Tensor tensor) where T : unmanaged
        => MemoryMarshal.Cast<byte, T>(tensor.cpu().contiguous().bytes).ToArray();

    /// <summary>
    /// A new CPU tensor of <paramref name="shape"/> holding <paramref name="values"/>, written by one block copy into its
    /// storage. TorchSharp's <c>torch.tensor(T[], shape)</c> first copies the array into a second managed array (measured:
    /// 410 bytes of garbage per 100-feature row when scoring), and it takes whole arrays only, so a partial batch needed a
    /// third copy; this takes any span. The tensor belongs to the caller's dispose scope.
    /// </summary>
    public static Tensor ToTensor<T>(ReadOnlySpan<T> values, ReadOnlySpan<long> shape) where T : unmanaged
    {
        var tensor = torch.empty(shape, ScalarTypeOf<T>());
        var bytes = tensor.bytes;
        if (bytes.Length != values.Length * Marshal.SizeOf<T>())
        {
            tensor.Dispose();
            throw new ArgumentException($"{values.Length} values do not fill a tensor of shape [{string.Join(", ", shape.ToArray())}].", nameof(values));
        }
        MemoryMarshal.AsBytes(values).CopyTo(bytes);
        return tensor;
    }

    /// <summary>
    /// The values of <paramref name="tensor"/> read in place, without a copy or a tensor operation, when it is a contiguous CPU
    /// tensor of element type <typeparamref name="T"/>; false otherwise (a device tensor, a strided view, another type). The
    /// span is valid while the tensor is alive. Per-step metrics read batch outputs this way on the CPU: a libtorch operation
    /// costs ~15–25 µs of dispatch from .NET, several of them a noticeable share of a small network's step.
    /// </summary>
    public static bool TryRead<T>(Tensor tensor, out ReadOnlySpan<T> values) where T : unmanaged
    {
        values = default;
        if (tensor.device_type != DeviceType.CPU || tensor.dtype != ScalarTypeOf<T>() || !tensor.is_contiguous()
            || tensor.NumberOfElements * Marshal.SizeOf<T>() > int.MaxValue)
            return false;
        values = MemoryMarshal.Cast<byte, T>(tensor.bytes);
        return true;
    }

    private static ScalarType ScalarTypeOf<T>() where T : unmanaged
        => typeof(T) == typeof(float) ? ScalarType.Float32
            : typeof(T) == typeof(long) ? ScalarType.Int64
            : typeof(T) == typeof(int) ? ScalarType.Int32
            : typeof(T) == typeof(double) ? ScalarType.Float64
            : typeof(T) == typeof(byte) ? ScalarType.Byte
            : typeof(T) == typeof(bool) ? ScalarType.Bool
            : throw new NotSupportedException($"No tensor element type for {typeof(T).Name}.");
}

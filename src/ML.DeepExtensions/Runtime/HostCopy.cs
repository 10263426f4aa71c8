using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Runtime;

/// <summary>Tensor values into managed arrays.</summary>
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
}

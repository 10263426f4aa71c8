using System;

namespace ML.DeepExtensions.Runtime;

/// <summary>
/// Thrown when libtorch (TorchSharp's native backend) cannot be loaded. The message says what is missing and
/// how to fix it; the original loader error is kept as <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class NativeLibraryException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public NativeLibraryException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

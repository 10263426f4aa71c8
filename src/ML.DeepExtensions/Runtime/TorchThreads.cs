using System;
using TorchSharp;

namespace ML.DeepExtensions.Runtime;

/// <summary>
/// torch's intra-op thread count (<c>torch.set_num_threads</c>) for the duration of one call on the calling thread —
/// a <c>Fit</c>, a scored batch — and restored afterwards, so an option never leaks into the rest of the application.
/// </summary>
internal static class TorchThreads
{
    /// <summary>Sets <paramref name="threads"/> until the returned scope is disposed; null changes nothing.</summary>
    public static Scope Use(int? threads)
    {
        if (threads is not { } wanted)
            return default;
        TorchRuntime.EnsureInitialized();
        var previous = torch.get_num_threads();
        if (previous == wanted)
            return default;
        torch.set_num_threads(wanted);
        return new Scope(previous);
    }

    /// <summary>Restores the thread count that was in effect before <see cref="Use"/>.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly int _previous;

        internal Scope(int previous) => _previous = previous;

        /// <summary>Restores the previous count (nothing when <see cref="Use"/> changed nothing).</summary>
        public void Dispose()
        {
            if (_previous > 0)
                torch.set_num_threads(_previous);
        }
    }
}

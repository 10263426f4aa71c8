using System;
using System.Threading;

namespace ML.DeepExtensions.Runtime;

/// <summary>
/// A setting the calling flow can override until it disposes the override (the tasks and threads it starts see it too,
/// others keep the default): for the A/B switches of tests and benchmarks, e.g. <see cref="Networks.UnrolledLstm.Force"/>.
/// </summary>
internal sealed class FlowOverride<T> where T : struct
{
    private readonly AsyncLocal<T?> _value = new();

    /// <summary>The calling flow's override, or null when it has none.</summary>
    public T? Value => _value.Value;

    /// <summary>Sets the calling flow's override (null: none) until the result is disposed, which restores the previous one.</summary>
    public IDisposable Set(T? value)
    {
        var previous = _value.Value;
        _value.Value = value;
        return new Restore(() => _value.Value = previous);
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}

using System;
using System.Diagnostics;
using System.Threading;

namespace ML.DeepExtensions.Training;

/// <summary>
/// Makes the end of the process safe while <c>Fit</c> runs on another thread. When <c>Main</c> returns (or
/// <c>Environment.Exit</c> is called, or SIGTERM arrives) the runtime exits while background threads still run; a
/// training thread inside libtorch then races libtorch's own teardown and the process dies of SIGSEGV/SIGABRT. On
/// <see cref="AppDomain.ProcessExit"/> this guard cancels every running fit (through <see cref="Token"/>, which the
/// engine checks between batches) and waits until each has finished its current step, released its native memory and
/// parked: a parked training thread sleeps in managed code until the process ends, so it neither touches libtorch
/// again nor returns into user code that could fail on the cancellation.
/// </summary>
internal static class ProcessExitGuard
{
    /// <summary>How long the exit waits for running fits to stop: a few steps of the largest networks here.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    private static readonly CancellationTokenSource Exiting = new();
    private static readonly object Gate = new();
    private static int _active;

    [ThreadStatic]
    private static int _activeOnThisThread;

    static ProcessExitGuard() => AppDomain.CurrentDomain.ProcessExit += OnProcessExit;

    /// <summary>Cancelled when the process starts exiting.</summary>
    public static CancellationToken Token => Exiting.Token;

    /// <summary>Whether the process is exiting.</summary>
    public static bool IsExiting => Exiting.IsCancellationRequested;

    /// <summary>Marks a fit as running until the returned scope is disposed or the fit <see cref="Park"/>s.</summary>
    public static Scope Enter()
    {
        lock (Gate)
            _active++;
        _activeOnThisThread++;
        return new Scope();
    }

    /// <summary>
    /// Called by a fit that stopped because the process exits, after it released its native memory: tells the exiting
    /// thread it is done and never returns.
    /// </summary>
    public static void Park(Scope scope)
    {
        scope.Dispose();
        Thread.Sleep(Timeout.Infinite);
    }

    private static void Leave()
    {
        _activeOnThisThread--;
        lock (Gate)
        {
            _active--;
            Monitor.PulseAll(Gate);
        }
    }

    private static void OnProcessExit(object? sender, EventArgs e)
    {
        Exiting.Cancel();
        var clock = Stopwatch.StartNew();
        lock (Gate)
        {
            // A fit on this very thread (Environment.Exit from a progress callback) cannot stop while we wait for it.
            while (_active > _activeOnThisThread)
            {
                var left = MaxWait - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                    break;
                Monitor.Wait(Gate, left);
            }
        }
    }

    /// <summary>One running fit.</summary>
    public sealed class Scope : IDisposable
    {
        private int _disposed;

        internal Scope()
        {
        }

        /// <summary>The fit ended (returned or threw).</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                Leave();
        }
    }
}

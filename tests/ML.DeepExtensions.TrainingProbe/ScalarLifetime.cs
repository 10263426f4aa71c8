using System;
using System.Threading;
using ML.DeepExtensions.Runtime;
using TorchSharp;

namespace ML.DeepExtensions.TrainingProbe;

/// <summary>
/// Reproduces TorchSharp 0.107's scalar-finalization fault (README "Limits"): a call with a <c>Scalar</c> parameter passes
/// only its native handle, so a garbage collection started by another thread can finalize the managed temporary (a converted
/// number, or a hidden default such as <c>add_</c>'s <c>alpha = 1</c>) while libtorch still reads it. One thread adds 1 to
/// a tensor 1,000 times per round while a second thread allocates; a round fails on a libtorch error or a wrong sum. Run in
/// a process of its own: the test host's garbage collections are too slow to hit the window often.
/// </summary>
internal static class ScalarLifetime
{
    /// <summary>Half the time with implicit scalars, half with an explicitly held one; prints one line per mode and the quarantine's state.</summary>
    public static int Run(double seconds, bool quarantine)
    {
        TorchRuntime.QuarantineScalars = quarantine;
        TorchRuntime.EnsureInitialized();
        torch.set_num_threads(1); // libtorch's idle OpenMP workers would compete with the allocating thread for the cores
        var failures = Measure(seconds / 2, explicitScalar: false) + Measure(seconds / 2, explicitScalar: true);
        Console.WriteLine($"scalar quarantine: {TorchRuntime.ScalarQuarantineState}");
        return failures == 0 ? 0 : 1;
    }

    private static int Measure(double seconds, bool explicitScalar)
    {
        var stop = 0;
        var churn = new Thread(() =>
        {
            byte[]? kept = null;
            while (Volatile.Read(ref stop) == 0)
                kept = new byte[4096]; // keeps the garbage collector running while the other thread is in libtorch
            GC.KeepAlive(kept);
        });
        churn.Start();
        int rounds = 0, failures = 0;
        string? first = null;
        using var one = 1.0.ToScalar();
        var end = DateTime.UtcNow.AddSeconds(seconds);
        try
        {
            while (DateTime.UtcNow < end)
            {
                using var scope = torch.NewDisposeScope();
                var x = torch.zeros(64);
                string? problem = null;
                try
                {
                    for (var i = 0; i < 1000; i++)
                    {
                        if (explicitScalar)
                            x.add_(one);
                        else
                            x.add_(1.0);
                    }
                    var sum = x.sum().item<float>();
                    if (sum != 64_000f)
                        problem = $"sum {sum} instead of 64000";
                }
                catch (System.Runtime.InteropServices.ExternalException ex)
                {
                    problem = ex.Message.Split('\n')[0];
                }
                rounds++;
                if (problem is not null)
                {
                    failures++;
                    first ??= problem;
                }
            }
        }
        finally
        {
            Volatile.Write(ref stop, 1);
            churn.Join();
        }
        Console.WriteLine($"{(explicitScalar ? "held" : "implicit")}: {failures} of {rounds} rounds failed{(first is null ? "" : $" (first: {first})")}");
        return failures;
    }
}

using System;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace ML.DeepExtensions.Benchmarks;

/// <summary>
/// How busy the rest of the machine was during a measurement: CPU time used by all processes (from /proc/stat)
/// minus this process's CPU time, per second of wall time, in cores. On a 2-core machine, anything above ~0.2
/// means another process competed with torch's intra-op threads and the timings are not trustworthy.
/// </summary>
internal sealed class LoadMeter
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux
    private readonly long _busy;
    private readonly TimeSpan _own;
    private readonly Stopwatch _clock;

    private LoadMeter()
    {
        _busy = BusyTicks() ?? -1;
        _own = Process.GetCurrentProcess().TotalProcessorTime;
        _clock = Stopwatch.StartNew();
    }

    public static LoadMeter Start() => new();

    /// <summary>Average cores used by other processes since <see cref="Start"/>, or null where /proc/stat is unavailable.</summary>
    public double? OtherCores()
    {
        var busy = BusyTicks();
        var seconds = _clock.Elapsed.TotalSeconds;
        if (busy is null || _busy < 0 || seconds <= 0)
            return null;
        var own = (Process.GetCurrentProcess().TotalProcessorTime - _own).TotalSeconds;
        return Math.Max(0, ((busy.Value - _busy) / TicksPerSecond - own) / seconds);
    }

    /// <summary>The 1-minute load average, or null.</summary>
    public static double? LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static long? BusyTicks()
    {
        try
        {
            if (!File.Exists("/proc/stat"))
                return null;
            var line = File.ReadLines("/proc/stat").First();
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
            // user nice system idle iowait irq softirq steal ...
            return fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + (fields.Length > 7 ? fields[7] : 0);
        }
        catch (IOException)
        {
            return null;
        }
    }
}

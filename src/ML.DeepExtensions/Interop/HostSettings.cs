using System;
using Microsoft.ML.Runtime;

namespace ML.DeepExtensions.Interop;

/// <summary>The settings ML.NET keeps internal on its environment: <c>MLContext.Seed</c>, <c>GpuDeviceId</c>, <c>FallbackToCpu</c>.</summary>
internal sealed record HostSettings(int? Seed, int? GpuDeviceId, bool FallbackToCpu)
{
    /// <summary>Reads them from an <c>MLContext</c> or the environment ML.NET passes to loaders.</summary>
    public static HostSettings Read(IHostEnvironment env)
        => env is IHostEnvironmentInternal settings
            ? new HostSettings(settings.Seed, settings.GpuDeviceId, settings.FallbackToCpu)
            : new HostSettings(null, null, false);
}

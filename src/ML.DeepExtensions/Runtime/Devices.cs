using System;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Persistence;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Runtime;

/// <summary>Chooses the device from <c>MLContext.GpuDeviceId</c> and <c>MLContext.FallbackToCpu</c>.</summary>
internal static class Devices
{
    /// <summary>CPU when no GPU is asked for; the CUDA device when available; CPU with a warning when allowed to fall back.</summary>
    /// <exception cref="InvalidOperationException">A GPU was asked for, CUDA is unavailable and fallback is off.</exception>
    public static Device Select(HostSettings settings, IChannel? channel)
    {
        TorchRuntime.EnsureInitialized();
        if (settings.GpuDeviceId is not { } id)
            return CPU;
        if (torch.cuda.is_available() && id < torch.cuda.device_count())
            return new Device(DeviceType.CUDA, id);
        var reason = torch.cuda.is_available()
            ? $"only {torch.cuda.device_count()} CUDA device(s) exist"
            : "CUDA is not available (no CUDA libtorch backend is referenced, or no GPU/driver is present)";
        if (settings.FallbackToCpu)
        {
            channel?.Warning($"MLContext.GpuDeviceId is {id} but {reason}; using the CPU because FallbackToCpu is true.");
            return CPU;
        }
        throw new InvalidOperationException(
            $"MLContext.GpuDeviceId is {id} but {reason}. Reference a CUDA libtorch backend and check the driver, " +
            "or set MLContext.FallbackToCpu = true to train on the CPU.");
    }
}

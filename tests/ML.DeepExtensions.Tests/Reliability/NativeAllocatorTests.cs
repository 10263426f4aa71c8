using System;
using ML.DeepExtensions.Runtime;
using Xunit;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>The allocator lever of issue 15: on by default, applied only where it can be, and never over the application's settings.</summary>
public class NativeAllocatorTests
{
    [Fact]
    public void ByDefault_LibtorchStartUp_SetsGlibcThresholds_OnLinux_UnlessTheEnvironmentSetsThem()
    {
        TorchRuntime.EnsureInitialized();
        Assert.True(TorchRuntime.TuneNativeAllocator);
        AssertApplied();
    }

    [Fact]
    public void WhenTurnedOff_StateSaysOff_ThenOnAgain_SaysApplied()
    {
        try
        {
            NativeAllocator.Apply(enabled: false);
            Assert.Equal("off (TorchRuntime.TuneNativeAllocator is false)", NativeAllocator.State);
        }
        finally
        {
            NativeAllocator.Apply(enabled: true); // the process's state as start-up left it
            AssertApplied();
        }
    }

    private static void AssertApplied()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Equal("not Linux", NativeAllocator.State);
        else if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
            Assert.StartsWith("left to the MALLOC", NativeAllocator.State);
        else
            Assert.Equal($"mmap threshold {NativeAllocator.MmapThresholdBytes >> 20} MiB, trim threshold {NativeAllocator.TrimThresholdBytes >> 20} MiB", NativeAllocator.State);
    }
}

using System;
using ML.DeepExtensions.Runtime;
using Xunit;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>The allocator lever of issue 15: off unless asked for, applied only where it can be.</summary>
public class NativeAllocatorTests
{
    [Fact]
    public void ByDefault_LibtorchStartUp_LeavesGlibcAlone()
    {
        TorchRuntime.EnsureInitialized();
        Assert.False(TorchRuntime.TuneNativeAllocator);
        Assert.Equal("off (TorchRuntime.TuneNativeAllocator is false)", NativeAllocator.State);
    }

    [Fact]
    public void WhenAskedFor_SetsGlibcThresholds_OnLinux_UnlessTheEnvironmentSetsThem()
    {
        try
        {
            NativeAllocator.Apply(enabled: true);
            if (!OperatingSystem.IsLinux())
                Assert.Equal("not Linux", NativeAllocator.State);
            else if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
                Assert.StartsWith("left to the MALLOC", NativeAllocator.State);
            else
                Assert.Equal($"mmap threshold {NativeAllocator.MmapThresholdBytes >> 20} MiB, trim threshold {NativeAllocator.TrimThresholdBytes >> 20} MiB", NativeAllocator.State);
        }
        finally
        {
            // The thresholds stay set in this test process (harmless); the reported state returns to the default's.
            NativeAllocator.Apply(enabled: false);
        }
    }
}

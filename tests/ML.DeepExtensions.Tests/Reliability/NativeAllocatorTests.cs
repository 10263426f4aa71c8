using System;
using ML.DeepExtensions.Runtime;
using Xunit;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>The allocator lever of issue 15 is applied once, when libtorch starts, and only where it can be.</summary>
public class NativeAllocatorTests
{
    [Fact]
    public void LibtorchStartUp_SetsGlibcThresholds_OnLinux_UnlessTheEnvironmentSetsThem()
    {
        TorchRuntime.EnsureInitialized();
        if (!OperatingSystem.IsLinux())
        {
            Assert.Equal("not Linux", NativeAllocator.State);
            return;
        }
        if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null)
        {
            Assert.StartsWith("left to the MALLOC", NativeAllocator.State);
            return;
        }
        Assert.Equal($"mmap threshold {NativeAllocator.MmapThresholdBytes >> 20} MiB, trim threshold {NativeAllocator.TrimThresholdBytes >> 20} MiB", NativeAllocator.State);
    }
}

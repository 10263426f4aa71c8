using System;
using System.IO;
using System.Runtime.InteropServices;
using ML.DeepExtensions.Runtime;
using Xunit;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>Issue 9: a backend that cannot load is found before TorchSharp's loader (which would copy ~480 MB to retry).</summary>
public class NativeLibraryPreloadTests
{
    [Fact]
    public void Preload_OfThisTestsOutput_Succeeds()
        => Assert.Null(TorchRuntime.Preload(AppContext.BaseDirectory, out _));

    [Fact]
    public void Preload_OfAFolderWithoutTheLibraries_LeavesTheSearchToTorchSharp()
    {
        var directory = Directory.CreateTempSubdirectory("mldx-preload-empty-");
        try
        {
            Assert.Null(TorchRuntime.Preload(directory.FullName, out _));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Preload_OfAnUnloadableLibrary_NamesTheFile()
    {
        var directory = Directory.CreateTempSubdirectory("mldx-preload-bad-");
        try
        {
            var native = Directory.CreateDirectory(Path.Combine(directory.FullName, "runtimes", RuntimeInformation.RuntimeIdentifier, "native")).FullName;
            var name = OperatingSystem.IsWindows() ? "torch.dll" : OperatingSystem.IsMacOS() ? "libtorch.dylib" : "libtorch.so";
            var file = Path.Combine(native, name);
            File.WriteAllBytes(file, [0x7F, (byte)'E', (byte)'L', (byte)'F', 1, 2, 3]); // an ELF signature and nothing loadable
            var failure = TorchRuntime.Preload(directory.FullName, out _);
            Assert.NotNull(failure);
            Assert.Contains(file, failure!.Message);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;
using ML.DeepExtensions.Pretrained;
using ML.DeepExtensions.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>
/// Issue 10, "Hostile weight files": every size in a weight file or a model zip is checked against what the file holds
/// before anything is allocated, and every problem is a clear exception naming the file (or zip entry): never a raw
/// libtorch <c>ExternalException</c>, a <c>KeyNotFoundException</c>, gigabytes of memory, or a C++ stack.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class HostileWeightFileTests(DigitsModel digits, ITestOutputHelper output) : IClassFixture<DigitsModel>
{
    private string PathOf(string name) => Path.Combine(digits.Directory, name);

    private static Dictionary<string, Action<Stream>> Storage(string key, int bytes)
        => new() { [key] = s => s.Write(new byte[bytes]) };

    private PretrainedWeightsException AssertRejected(string path, params string[] fragments)
    {
        var ex = Record.Exception(() => PretrainedWeights.FromFile(path).Describe());
        Assert.True(ex is PretrainedWeightsException, $"expected PretrainedWeightsException, got {ex}");
        var weights = (PretrainedWeightsException)ex!;
        output.WriteLine(weights.Message);
        Assert.Equal(path, weights.FilePath);
        Assert.Contains(path, weights.Message, StringComparison.Ordinal);
        foreach (var fragment in fragments)
            Assert.Contains(fragment, weights.Message, StringComparison.Ordinal);
        return weights;
    }

    [Fact]
    public void PyTorchFile_StorageOffsetOutOfBounds_IsRejectedNamingTheFile()
    {
        var path = PathOf("offset.pt");
        TorchPickle.WriteArchive(path, TorchPickle.StateDict("w", p => p.Tensor("0", 4, offset: 100, shape: [4], stride: [1])), Storage("0", 16));
        AssertRejected(path, "'w'", "offset 100");
    }

    [Fact]
    public void PyTorchFile_NegativeDimension_IsRejectedNamingTheFile()
    {
        var path = PathOf("negative.pt");
        TorchPickle.WriteArchive(path, TorchPickle.StateDict("w", p => p.Tensor("0", 12, offset: 0, shape: [-3, 4], stride: [4, 1])), Storage("0", 48));
        AssertRejected(path, "'w'", "negative");
    }

    [Fact]
    public void PyTorchFile_ShapeOverflow_IsRejectedNamingTheFile()
    {
        var path = PathOf("overflow.pt");
        const int Big = 1 << 30;
        TorchPickle.WriteArchive(path, TorchPickle.StateDict("w", p => p.Tensor("0", 4, offset: 0, shape: [Big, Big, Big], stride: [1, 1, 1])), Storage("0", 16));
        AssertRejected(path, "'w'");
    }

    [Fact]
    public void PyTorchFile_DeflateBomb_IsRejectedBeforeInflating()
    {
        // 512 MiB of zeros deflate to ~0.5 MB: a storage that claims them must not be inflated into memory.
        const int Elements = 128 << 20;
        var path = PathOf("bomb.pt");
        TorchPickle.WriteArchive(path, TorchPickle.StateDict("w", p => p.Tensor("0", Elements, offset: 0, shape: [Elements], stride: [1])),
            new Dictionary<string, Action<Stream>>
            {
                ["0"] = s =>
                {
                    var zeros = new byte[1 << 20];
                    for (var i = 0; i < Elements * 4L / zeros.Length; i++)
                        s.Write(zeros);
                },
            }, CompressionLevel.Optimal);
        output.WriteLine($"file: {new FileInfo(path).Length:N0} bytes");

        var growth = PeakMemory.GrowthMiB(() => AssertRejected(path, "deflate bomb"));

        output.WriteLine($"peak memory growth: {growth} MiB");
        Assert.True(growth < 128, $"reading the bomb grew the peak resident memory by {growth} MiB");
    }

    [Fact]
    public void PyTorchFile_StorageSmallerThanItsTensor_IsRejected()
    {
        var path = PathOf("short-storage.pt");
        TorchPickle.WriteArchive(path, TorchPickle.StateDict("w", p => p.Tensor("0", 64, offset: 0, shape: [8, 8], stride: [8, 1])), Storage("0", 40));
        AssertRejected(path, "'w'");
    }

    public static TheoryData<string, string, string> BadSafetensorsHeaders => new()
    {
        { "no data_offsets", """{"w":{"dtype":"F32","shape":[4]}}""", "\"data_offsets\"" },
        { "no dtype", """{"w":{"shape":[4],"data_offsets":[0,16]}}""", "\"dtype\"" },
        { "no shape", """{"w":{"dtype":"F32","data_offsets":[0,16]}}""", "\"shape\"" },
        { "shape not an array", """{"w":{"dtype":"F32","shape":"4","data_offsets":[0,16]}}""", "\"shape\"" },
        { "negative dimension", """{"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}""", "\"shape\"" },
        { "entry not an object", """{"w":7}""", "'w'" },
        { "offsets beyond the data", """{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,4000]}}""", "data offsets" },
        { "shape larger than its offsets", """{"w":{"dtype":"F32","shape":[400],"data_offsets":[0,16]}}""", "needs 1600 bytes" },
    };

    [Theory]
    [MemberData(nameof(BadSafetensorsHeaders))]
    public void SafetensorsFile_WithAMissingOrBadField_IsRejectedNamingTheFileAndField(string name, string header, string expected)
    {
        var path = PathOf(name.Replace(' ', '-') + ".safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        using (var writer = new BinaryWriter(File.Create(path)))
        {
            writer.Write((ulong)json.Length);
            writer.Write(json);
            writer.Write(new byte[16]);
        }
        AssertRejected(path, expected);
    }

    [Theory]
    [InlineData(8_000_000)]         // 64 × 8 M Single weights: 2 GB for a ~20 KB zip
    [InlineData(2_000_000_000)]     // 512 GB: libtorch cannot allocate it
    public void ModelZipDescribingAHugeNetwork_FailsBeforeAllocatingIt(int units)
    {
        var zip = digits.Copy($"huge-{units}");
        ModelZipSurgery.EditHeader(zip, "TransformerChain/Model.key", json => ModelHeaderValidationTests.Apply(json, $"network.units={units}"));

        var growth = PeakMemory.GrowthMiB(() => Damage.AssertLoadFails(zip, "The model is damaged", "TransformerChain/Model.key", "needs at least"));

        output.WriteLine($"peak memory growth: {growth} MiB");
        Assert.True(growth < 128, $"loading grew the peak resident memory by {growth} MiB");
    }
}

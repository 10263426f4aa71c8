using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>
/// Writes pickles (protocol 2) and PyTorch-style <c>.pt</c> zips by hand, so that tests can describe tensors PyTorch would
/// never write: storage offsets out of bounds, negative or overflowing dimensions, deflate bombs, code-running globals.
/// </summary>
internal sealed class TorchPickle
{
    private readonly MemoryStream _bytes = new();

    public TorchPickle() => Op(0x80).Op(2); // PROTO 2

    public TorchPickle Op(byte code)
    {
        _bytes.WriteByte(code);
        return this;
    }

    public TorchPickle Global(string module, string name) => Ascii($"c{module}\n{name}\n");

    public TorchPickle String(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        Op((byte)'X');
        _bytes.Write(BitConverter.GetBytes((uint)utf8.Length));
        _bytes.Write(utf8);
        return this;
    }

    public TorchPickle Int(int value)
    {
        Op((byte)'J');
        _bytes.Write(BitConverter.GetBytes(value));
        return this;
    }

    public TorchPickle Mark() => Op((byte)'(');

    public TorchPickle Tuple() => Op((byte)'t');

    public TorchPickle Reduce() => Op((byte)'R');

    public TorchPickle EmptyOrderedDict() => Global("collections", "OrderedDict").Op((byte)')').Reduce();

    public TorchPickle IntTuple(IEnumerable<int> values)
    {
        Mark();
        foreach (var v in values)
            Int(v);
        return Tuple();
    }

    /// <summary>The call <c>_rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict())</c> on persistent storage <paramref name="key"/>.</summary>
    public TorchPickle Tensor(string key, int storageElements, int offset, int[] shape, int[] stride, string storageType = "FloatStorage")
    {
        Global("torch._utils", "_rebuild_tensor_v2").Mark();
        Mark().String("storage").Global("torch", storageType).String(key).String("cpu").Int(storageElements).Tuple().Op((byte)'Q'); // BINPERSID
        Int(offset).IntTuple(shape).IntTuple(stride).Op(0x89); // NEWFALSE
        EmptyOrderedDict();
        return Tuple().Reduce();
    }

    public byte[] Stop()
    {
        Op((byte)'.');
        return _bytes.ToArray();
    }

    private TorchPickle Ascii(string text)
    {
        _bytes.Write(Encoding.ASCII.GetBytes(text));
        return this;
    }

    /// <summary>A state dict <c>{name: tensor}</c> of one tensor.</summary>
    public static byte[] StateDict(string name, Action<TorchPickle> tensor)
    {
        var pickle = new TorchPickle().EmptyOrderedDict().Mark().String(name);
        tensor(pickle);
        return pickle.Op((byte)'u').Stop(); // SETITEMS
    }

    /// <summary>Writes a <c>.pt</c> zip: <c>archive/data.pkl</c>, <c>archive/version</c> and the storages (name → bytes, or a writer of the inflated bytes).</summary>
    public static void WriteArchive(string path, byte[] pickle, IReadOnlyDictionary<string, Action<Stream>> storages, CompressionLevel level = CompressionLevel.NoCompression)
    {
        using var archive = new ZipArchive(File.Create(path), ZipArchiveMode.Create);
        using (var s = archive.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open())
            s.Write(pickle);
        using (var s = archive.CreateEntry("archive/version", CompressionLevel.NoCompression).Open())
            s.Write("3\n"u8);
        foreach (var (key, write) in storages)
        {
            using var s = archive.CreateEntry("archive/data/" + key, level).Open();
            write(s);
        }
    }
}

/// <summary>The process's peak resident memory (VmHWM), which Linux lets a process reset for itself.</summary>
internal static class PeakMemory
{
    public static void Reset() => File.WriteAllText("/proc/self/clear_refs", "5");

    public static long MiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024;
        }
        throw new InvalidOperationException("VmHWM not found in /proc/self/status");
    }

    /// <summary>How many MiB the peak resident memory grew while <paramref name="action"/> ran.</summary>
    public static long GrowthMiB(Action action)
    {
        GC.Collect();
        Reset();
        var before = MiB();
        action();
        return MiB() - before;
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Training;

/// <summary>
/// The state written after every epoch so that training can resume: progress, history, early-stopping and
/// plateau state, the weights (batch-norm statistics included), the optimizer state, (when restoring best weights)
/// the best weights, and every source of randomness — the model's generator (dropout, drop-path, augmentation
/// layers) and torch's global generator (the dropout inside LSTM/GRU layers); the shuffle of each epoch is a function
/// of the seed and the epoch. A resumed run therefore equals an uninterrupted one bit for bit.
/// Written to a temporary file, flushed to disk and moved into place, so a crash never leaves a half-written
/// checkpoint; a temporary file left by a killed run is removed when the next run starts (<see cref="Prepare"/>).
/// </summary>
internal sealed partial class Checkpoint
{
    public const string FileName = "checkpoint.bin";
    private const string Magic = "MLDX-CHECKPOINT";
    /// <summary>2 added the generators' states and <see cref="ReferenceLoss"/>; version 1 still resumes (without them).</summary>
    private const int FormatVersion = 2;

    public required string Network { get; init; }
    public required int CompletedEpochs { get; init; }
    public required List<EpochMetrics> History { get; init; }
    public required double BestValue { get; init; }
    public required int BestEpoch { get; init; }
    public required double PlateauFactor { get; init; }
    public required int PlateauWait { get; init; }

    /// <summary>The loss of the run's first step, the reference of the explosive-growth check (NaN in version 1).</summary>
    public double ReferenceLoss { get; init; } = double.NaN;

    public static string FilePath(string directory) => Path.Combine(directory, FileName);

    private static string TempPath(string directory) => FilePath(directory) + ".tmp";

    /// <summary>
    /// Called before training starts: creates <paramref name="directory"/>, removes a temporary file a killed run left
    /// behind, and proves the directory writable, so a bad directory fails before the first epoch rather than after it.
    /// </summary>
    /// <exception cref="IOException">The directory cannot be created or written.</exception>
    public static void Prepare(string directory)
    {
        var full = Path.GetFullPath(directory);
        var temp = TempPath(full);
        try
        {
            Directory.CreateDirectory(full);
            File.Delete(temp);
            using (File.Create(temp, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var reason = Directory.Exists(full) ? "is not writable" : "cannot be created";
            throw new IOException(
                $"CheckpointDirectory '{directory}' {reason}: {ex.Message} Expected a directory this process can create files in (checkpoints are written there after every epoch).", ex);
        }
    }

    /// <summary>Reads only the header of the checkpoint in <paramref name="directory"/> (progress and history).</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint or is damaged.</exception>
    public static Checkpoint ReadHeader(string directory)
    {
        var path = Path.GetFullPath(FilePath(directory));
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            return ReadHeader(reader, path, out _);
        }
        catch (Exception ex) when (ex is EndOfStreamException or JsonException or FormatException or IOException and not FileNotFoundException)
        {
            throw new InvalidDataException($"Checkpoint '{path}' is damaged or incomplete: {ex.Message}", ex);
        }
    }

    private static Checkpoint ReadHeader(BinaryReader reader, string path, out int version)
    {
        if (reader.ReadString() != Magic)
            throw new InvalidDataException($"'{path}' is not a checkpoint written by ML.DeepExtensions.");
        version = reader.ReadInt32();
        if (version is < 1 or > FormatVersion)
            throw new InvalidDataException($"Checkpoint '{path}' has format version {version}; this version reads 1 to {FormatVersion}.");
        return JsonSerializer.Deserialize<Checkpoint>(reader.ReadString(), JsonFormat.Options)
            ?? throw new InvalidDataException($"Checkpoint '{path}' has no header.");
    }

    public void Save(string directory, nn.Module module, OptimizerHelper optimizer, IReadOnlyDictionary<string, Tensor>? bestWeights, Generator? generator)
    {
        Directory.CreateDirectory(directory);
        var path = FilePath(directory);
        var temp = TempPath(directory);
        using (var stream = File.Create(temp))
        using (var writer = new BinaryWriter(stream, Encoding.UTF8))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(JsonSerializer.Serialize(this, JsonFormat.Options));
            module.save(writer);
            optimizer.save_state_dict(writer);
            writer.Write(bestWeights is not null);
            if (bestWeights is not null)
            {
                writer.Write(bestWeights.Count);
                foreach (var (name, tensor) in bestWeights)
                {
                    writer.Write(name);
                    tensor.Save(writer);
                }
            }
            WriteState(writer, generator);
            WriteState(writer, null);
            writer.Flush();
            // On disk before the move: after a power loss the checkpoint is the old one or the new one, never a hole.
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>A generator's state (null: torch's global CPU generator) as length-prefixed bytes.</summary>
    private static void WriteState(BinaryWriter writer, Generator? generator)
    {
        using var state = generator is null ? torch.random.get_rng_state() : generator.get_state();
        var bytes = HostCopy.ToArray<byte>(state);
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    private static void ReadState(BinaryReader reader, Generator? generator)
    {
        var length = reader.ReadInt32();
        var bytes = reader.ReadBytes(length);
        if (length <= 0 || bytes.Length != length)
            throw new EndOfStreamException($"expected a random-generator state of {length} bytes, found {bytes.Length}");
        using var state = torch.tensor(bytes);
        if (generator is null)
            torch.random.set_rng_state(state);
        else
            generator.set_state(state);
    }

    /// <summary>Reads a checkpoint into <paramref name="module"/> and <paramref name="optimizer"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, is damaged, or belongs to another network.</exception>
    /// <remarks>
    /// Also restores the states of <paramref name="generator"/> and of torch's global generator (format version 2), so
    /// the resumed epochs draw the same dropout masks, drop-path choices and augmentations as an uninterrupted run.
    /// </remarks>
    public static Checkpoint Load(string directory, string network, nn.Module module, OptimizerHelper optimizer, Generator? generator, out Dictionary<string, Tensor>? bestWeights)
    {
        var path = Path.GetFullPath(FilePath(directory));
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            var checkpoint = ReadHeader(reader, path, out var version);
            if (!SameNetwork(checkpoint.Network, network))
                throw new InvalidDataException(
                    $"Checkpoint '{path}' was written for a different network or input: expected {network}, found {checkpoint.Network}.");
            module.load(reader);
            optimizer.load_state_dict(reader);
            bestWeights = null;
            if (reader.ReadBoolean())
            {
                bestWeights = new Dictionary<string, Tensor>();
                var count = reader.ReadInt32();
                for (var i = 0; i < count; i++)
                {
                    var name = reader.ReadString();
                    bestWeights[name] = module.state_dict()[name].detach().clone();
                    bestWeights[name].Load(reader);
                }
            }
            if (version >= 2)
            {
                if (generator is null)
                    reader.BaseStream.Position += reader.ReadInt32();
                else
                    ReadState(reader, generator);
                ReadState(reader, null);
            }
            return checkpoint;
        }
        catch (Exception ex) when (ex is EndOfStreamException or JsonException or ArgumentException or FormatException or IOException and not FileNotFoundException)
        {
            throw new InvalidDataException($"Checkpoint '{path}' is damaged or incomplete: {ex.Message}", ex);
        }
    }

    /// <summary>Whether two network fingerprints describe the same network. The assembly names layers record in JSON
    /// (since model format 2) say where a layer kind is registered, not what the network is: a checkpoint written before
    /// layers recorded them still resumes.</summary>
    internal static bool SameNetwork(string stored, string expected)
        => stored == expected || WithoutAssemblies(stored) == WithoutAssemblies(expected);

    private static string WithoutAssemblies(string fingerprint) => AssemblyProperty().Replace(fingerprint, "");

    [GeneratedRegex("\"assembly\":\"[^\"]*\",?")]
    private static partial Regex AssemblyProperty();
}

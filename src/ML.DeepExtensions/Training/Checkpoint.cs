using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Training;

/// <summary>
/// The state written after every epoch so that training can resume: progress, history, early-stopping and
/// plateau state, the weights, the optimizer state and (when restoring best weights) the best weights.
/// Written to a temporary file and moved into place, so a crash never leaves a half-written checkpoint.
/// </summary>
internal sealed partial class Checkpoint
{
    public const string FileName = "checkpoint.bin";
    private const string Magic = "MLDX-CHECKPOINT";
    private const int FormatVersion = 1;

    public required string Network { get; init; }
    public required int CompletedEpochs { get; init; }
    public required List<EpochMetrics> History { get; init; }
    public required double BestValue { get; init; }
    public required int BestEpoch { get; init; }
    public required double PlateauFactor { get; init; }
    public required int PlateauWait { get; init; }

    public static string FilePath(string directory) => Path.Combine(directory, FileName);

    public void Save(string directory, nn.Module module, OptimizerHelper optimizer, IReadOnlyDictionary<string, Tensor>? bestWeights)
    {
        Directory.CreateDirectory(directory);
        var path = FilePath(directory);
        var temp = path + ".tmp";
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
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads a checkpoint into <paramref name="module"/> and <paramref name="optimizer"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, is damaged, or belongs to another network.</exception>
    public static Checkpoint Load(string directory, string network, nn.Module module, OptimizerHelper optimizer, out Dictionary<string, Tensor>? bestWeights)
    {
        var path = Path.GetFullPath(FilePath(directory));
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            if (reader.ReadString() != Magic)
                throw new InvalidDataException($"'{path}' is not a checkpoint written by ML.DeepExtensions.");
            var version = reader.ReadInt32();
            if (version != FormatVersion)
                throw new InvalidDataException($"Checkpoint '{path}' has format version {version}; this version reads {FormatVersion}.");
            var checkpoint = JsonSerializer.Deserialize<Checkpoint>(reader.ReadString(), JsonFormat.Options)
                ?? throw new InvalidDataException($"Checkpoint '{path}' has no header.");
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

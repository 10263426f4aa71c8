using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.ML.Runtime;
using TorchSharp;

namespace ML.DeepExtensions.Pretrained;

/// <summary>The file formats <see cref="PretrainedWeights"/> reads.</summary>
public enum PretrainedWeightsFormat
{
    /// <summary>TorchSharp's own format, written by <c>Module.save</c>.</summary>
    TorchSharp,

    /// <summary>A PyTorch state dict written by <c>torch.save(model.state_dict(), path)</c> (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>; the zip format of PyTorch ≥ 1.6).</summary>
    PyTorch,

    /// <summary>A <c>.safetensors</c> file (Hugging Face's format, or TorchSharp.PyBridge's <c>save_safetensors</c>).</summary>
    Safetensors,

    /// <summary>Weights imported from another source by a package of this family (for example an ONNX model's initializers).</summary>
    Imported,
}

/// <summary>
/// Pretrained weights from a local file the user names: nothing is ever downloaded. The weights are copied
/// into a network before training (transfer learning). Names in the file do not have to match ours — a
/// torchvision state dict names its tensors <c>layer1.0.conv1.weight</c>, our networks <c>4.0.weight</c> —
/// so the contract is <b>order and shape</b>: the file's tensors are taken in the order the source network
/// registered them (PyTorch's state-dict order) and must have the shapes of ours, tensor by tensor. When every
/// name matches (a file saved from the same network), tensors are matched by name instead. The output layer
/// (the head) is loaded only when its shape matches; otherwise it keeps its fresh initialization, which is
/// how a head is replaced for a new class count. Batch-norm <c>num_batches_tracked</c> counters are ignored
/// on both sides (they only matter with cumulative averaging, which our layers do not use).
/// </summary>
/// <remarks>
/// Safetensors files written by Python's <c>safetensors</c> library store their tensors sorted by name, not in
/// network order; such a file loads only into a network whose tensor names match, or whose sorted order
/// happens to match. Re-save it with <c>torch.save(state_dict)</c> to keep the network order.
/// <para>
/// Untrusted files are safe to read. A <c>.pt</c> file is a Python pickle, and PyTorch's <c>torch.load</c> (without
/// <c>weights_only</c>) runs whatever callable a pickle names; this reader does not: TorchSharp.PyBridge's unpickler
/// (Razorvine.Pickle) builds only tensors and <c>OrderedDict</c>s and turns any other global into an inert dictionary, so a
/// pickle carrying a payload is rejected as an invalid file. Every size, shape, stride and offset in every format is
/// checked against the file before anything is allocated, a <c>.pt</c> may not inflate to more than 16 times its size
/// (PyTorch stores its entries uncompressed), and NaN or infinite weights are refused. Any problem is a
/// <see cref="PretrainedWeightsException"/> naming the file.
/// </para>
/// </remarks>
public sealed class PretrainedWeights
{
    private readonly Func<IReadOnlyList<SourceTensor>> _read;

    private PretrainedWeights(string path, PretrainedWeightsFormat format, Func<IReadOnlyList<SourceTensor>> read)
    {
        FilePath = path;
        Format = format;
        _read = read;
    }

    /// <summary>Full path of the weight file.</summary>
    public string FilePath { get; }

    /// <summary>The format the file is read as.</summary>
    public PretrainedWeightsFormat Format { get; }

    /// <summary>Weights saved by TorchSharp's <c>Module.save(path)</c>.</summary>
    /// <param name="path">Path of an existing file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static PretrainedWeights FromTorchSharp(string path)
    {
        var full = CheckFile(path);
        return new PretrainedWeights(full, PretrainedWeightsFormat.TorchSharp, () => WeightFileReaders.ReadTorchSharp(full));
    }

    /// <summary>A PyTorch state dict saved by <c>torch.save(model.state_dict(), path)</c>, read with TorchSharp.PyBridge.</summary>
    /// <param name="path">Path of an existing file (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static PretrainedWeights FromPyTorch(string path)
    {
        var full = CheckFile(path);
        return new PretrainedWeights(full, PretrainedWeightsFormat.PyTorch, () => WeightFileReaders.ReadPyTorch(full));
    }

    /// <summary>A <c>.safetensors</c> file (see the remarks on <see cref="PretrainedWeights"/> about its order).</summary>
    /// <param name="path">Path of an existing file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static PretrainedWeights FromSafetensors(string path)
    {
        var full = CheckFile(path);
        return new PretrainedWeights(full, PretrainedWeightsFormat.Safetensors, () => WeightFileReaders.ReadSafetensors(full));
    }

    /// <summary>
    /// Picks the reader from the file extension: <c>.safetensors</c> → safetensors; <c>.pt</c>, <c>.pth</c>,
    /// <c>.bin</c>, <c>.ckpt</c> → PyTorch; anything else → TorchSharp's format.
    /// </summary>
    /// <param name="path">Path of an existing file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static PretrainedWeights FromFile(string path)
    {
        var extension = Path.GetExtension(Guard.NotEmpty(path)).ToLowerInvariant();
        return extension switch
        {
            ".safetensors" => FromSafetensors(path),
            ".pt" or ".pth" or ".bin" or ".ckpt" => FromPyTorch(path),
            _ => FromTorchSharp(path),
        };
    }

    /// <summary>Names and shapes of the file's tensors, in the order they are matched.</summary>
    /// <exception cref="PretrainedWeightsException">The file cannot be read.</exception>
    public IReadOnlyList<(string Name, long[] Shape)> Describe()
    {
        using var scope = torch.NewDisposeScope();
        var tensors = Read();
        var result = new (string, long[])[tensors.Count];
        for (var i = 0; i < tensors.Count; i++)
            result[i] = (tensors[i].Name, tensors[i].Tensor.shape);
        return result;
    }

    /// <summary>A weight source whose tensors another component of this family produces (e.g. an ONNX importer).</summary>
    internal static PretrainedWeights FromReader(string path, Func<IReadOnlyList<SourceTensor>> read)
        => new(path, PretrainedWeightsFormat.Imported, read);

    /// <summary>The same file, read through <paramref name="select"/> (e.g. a network that is the first part of the file's
    /// network keeps only the tensors of that part); tensors it drops are disposed with the reader's dispose scope.</summary>
    internal PretrainedWeights Selecting(Func<IReadOnlyList<SourceTensor>, IReadOnlyList<SourceTensor>> select)
        => new(FilePath, Format, () => select(_read()));

    /// <summary>Reads the file's tensors in network order (caller disposes them, e.g. through a dispose scope).</summary>
    internal IReadOnlyList<SourceTensor> Read()
    {
        TorchSharpRuntimeCheck();
        if (!File.Exists(FilePath))
            throw new FileNotFoundException($"Pretrained weights file '{FilePath}' no longer exists.", FilePath);
        try
        {
            return _read();
        }
        catch (PretrainedWeightsException)
        {
            throw;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or NotImplementedException
                                       or NotSupportedException or InvalidCastException or FormatException or ArgumentException
                                       or OverflowException or IndexOutOfRangeException or InvalidOperationException or KeyNotFoundException
                                       or System.Text.Json.JsonException or Razorvine.Pickle.PickleException
                                       or System.Runtime.InteropServices.ExternalException)
        {
            throw new PretrainedWeightsException(FilePath, $"Cannot read pretrained weights file '{FilePath}' as {Format}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Copies the weights into <paramref name="module"/> (see the class remarks for the matching rules).
    /// Call it after the network is built and before training.
    /// </summary>
    /// <param name="module">The built network.</param>
    /// <param name="headTensors">How many trailing tensors of the network form the replaceable head (2 for a Dense layer with bias; 0 for none).</param>
    /// <param name="log">Optional channel for a one-line summary of what was loaded.</param>
    /// <returns>What was loaded.</returns>
    /// <exception cref="PretrainedWeightsException">The file cannot be read, or its tensors do not fit the network.</exception>
    internal WeightTransferResult Apply(torch.nn.Module module, int headTensors, IChannel? log = null)
        => WeightTransfer.Apply(this, Guard.NotNull(module), Guard.NonNegative(headTensors), log);

    private static void TorchSharpRuntimeCheck() => Runtime.TorchRuntime.EnsureInitialized();

    private static string CheckFile(string path)
    {
        Guard.NotEmpty(path);
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new FileNotFoundException($"Pretrained weights file '{full}' is a directory; name the weight file itself.", full);
        if (!File.Exists(full))
            throw new FileNotFoundException($"Pretrained weights file '{full}' not found. Weights are never downloaded: name a local file.", full);
        return full;
    }
}

/// <summary>The weights could not be read from their file, or do not fit the network they are loaded into.</summary>
public sealed class PretrainedWeightsException : IOException
{
    internal PretrainedWeightsException(string filePath, string message, Exception? inner = null)
        : base(message, inner) => FilePath = filePath;

    /// <summary>The weight file concerned.</summary>
    public string FilePath { get; }
}

/// <summary>One tensor of a weight file: its name in the file and its value.</summary>
internal sealed record SourceTensor(string Name, torch.Tensor Tensor);

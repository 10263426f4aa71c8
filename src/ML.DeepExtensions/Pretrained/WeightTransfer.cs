using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.ML.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Pretrained;

/// <summary>What <see cref="PretrainedWeights.Apply"/> loaded.</summary>
/// <param name="BackboneTensors">Tensors copied into the backbone (everything but the head).</param>
/// <param name="HeadLoaded">Whether the head was copied too (same shapes as the file's head); otherwise it keeps its fresh initialization.</param>
/// <param name="MatchedByName">Whether tensors were matched by name (every name matched) rather than by order.</param>
internal sealed record WeightTransferResult(int BackboneTensors, bool HeadLoaded, bool MatchedByName);

/// <summary>Copies source tensors into a built module: by name when all names match, otherwise by order and shape.</summary>
internal static class WeightTransfer
{
    /// <summary>The module's state tensors in PyTorch's state-dict order (<see cref="Networks.ModuleState.InPyTorchOrder"/>), without batch-norm counters.</summary>
    public static IReadOnlyList<(string Name, Tensor Tensor)> OrderedState(nn.Module module)
        => Networks.ModuleState.InPyTorchOrder(module).Where(s => !IsCounter(s.Key)).Select(s => (s.Key, s.Tensor)).ToArray();

    /// <summary>The trainable parameters of everything but the last <paramref name="headTensors"/> state tensors.</summary>
    public static IReadOnlyList<TorchSharp.Modules.Parameter> BackboneParameters(nn.Module module, int headTensors)
    {
        Guard.NotNull(module);
        Guard.NonNegative(headTensors);
        var state = OrderedState(module);
        var backbone = new HashSet<string>(state.Take(Math.Max(0, state.Count - headTensors)).Select(s => s.Name), StringComparer.Ordinal);
        return module.named_parameters().Where(p => backbone.Contains(p.name)).Select(p => p.parameter).ToArray();
    }

    /// <summary>Freezes (<paramref name="trainable"/> false) or unfreezes the backbone parameters; the head stays trainable.</summary>
    /// <returns>The number of parameters changed.</returns>
    public static int SetBackboneTrainable(nn.Module module, int headTensors, bool trainable)
    {
        var parameters = BackboneParameters(module, headTensors);
        foreach (var p in parameters)
            p.requires_grad = trainable;
        return parameters.Count;
    }

    public static WeightTransferResult Apply(PretrainedWeights weights, nn.Module module, int headTensors, IChannel? log)
    {
        using var scope = torch.NewDisposeScope();
        var source = NetworkOrder(weights.Read().Select(t => (t.Name, t.Tensor)));
        var target = OrderedState(module);
        if (headTensors > target.Count)
            throw new ArgumentOutOfRangeException(nameof(headTensors), headTensors, $"headTensors must be at most the network's {target.Count} state tensors. Received: headTensors={headTensors}");
        var file = weights.FilePath;
        var backboneCount = target.Count - headTensors;

        // Same names on both sides (for instance a file saved from the same network): match by name.
        var sourceByName = source.GroupBy(s => s.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Tensor, StringComparer.Ordinal);
        var byName = source.Count >= backboneCount && target.Take(backboneCount).All(t => sourceByName.ContainsKey(t.Name))
                     && source.All(s => target.Any(t => t.Name == s.Name));
        var pairs = new List<(int Index, string SourceName, Tensor Source, string TargetName, Tensor Target)>();
        if (byName)
        {
            for (var i = 0; i < target.Count; i++)
            {
                if (sourceByName.TryGetValue(target[i].Name, out var tensor))
                    pairs.Add((i, target[i].Name, tensor, target[i].Name, target[i].Tensor));
            }
        }
        else if (source.Count == target.Count || (headTensors > 0 && source.Count == backboneCount))
        {
            for (var i = 0; i < source.Count; i++)
                pairs.Add((i, source[i].Name, source[i].Tensor, target[i].Name, target[i].Tensor));
        }
        else
        {
            throw new PretrainedWeightsException(file,
                $"Pretrained weights file '{file}' holds {source.Count} tensors, but the network has {target.Count} " +
                $"({backboneCount} in the backbone and {headTensors} in the head); expected {target.Count}, or {backboneCount} without a head. " +
                $"File: {Listing(source)}. Network: {Listing(target)}.");
        }

        var headLoaded = headTensors > 0;
        foreach (var pair in pairs)
        {
            var inHead = pair.Index >= backboneCount;
            if (ShapesEqual(pair.Source.shape, pair.Target.shape))
                continue;
            if (inHead)
            {
                headLoaded = false;
                continue;
            }
            throw new PretrainedWeightsException(file,
                $"Pretrained weights file '{file}' does not fit the network: tensor #{pair.Index + 1} '{pair.SourceName}' in the file has shape " +
                $"{Shape(pair.Source)}, the network's tensor '{pair.TargetName}' has shape {Shape(pair.Target)}. " +
                "Tensors are matched by order and shape (names differ between frameworks): the file must come from the same architecture.");
        }
        if (!pairs.Any(p => p.Index >= backboneCount))
            headLoaded = false;

        var used = pairs.Where(p => p.Index < backboneCount || headLoaded).ToArray();
        // Every check before the first copy, so that a bad file leaves the network untouched.
        foreach (var pair in used)
        {
            if (!pair.Source.is_floating_point() && pair.Target.is_floating_point())
                throw new PretrainedWeightsException(file,
                    $"Pretrained weights file '{file}': tensor '{pair.SourceName}' holds {pair.Source.dtype} values, the network's tensor '{pair.TargetName}' needs {pair.Target.dtype}.");
            if (pair.Source.is_floating_point() && !torch.isfinite(pair.Source).all().item<bool>())
                throw new PretrainedWeightsException(file,
                    $"Pretrained weights file '{file}': tensor '{pair.SourceName}' {Shape(pair.Source)} holds NaN or infinite values; training from it would give NaN.");
        }
        using (torch.no_grad())
        {
            foreach (var pair in used)
                pair.Target.copy_(pair.Source);
        }

        var loaded = pairs.Count(p => p.Index < backboneCount);
        var head = headTensors == 0 ? "none." : headLoaded ? "loaded (same shape)." : "kept freshly initialized (new shape).";
        log?.Info(string.Create(CultureInfo.InvariantCulture,
            $"Pretrained weights from '{file}': {loaded} backbone tensors loaded by {(byName ? "name" : "order")}; head {head}"));
        return new WeightTransferResult(loaded, headLoaded, byName);
    }

    private static bool IsCounter(string name) => name.EndsWith("num_batches_tracked", StringComparison.Ordinal);

    /// <summary>
    /// A file's tensors in network order. TorchSharp's own format lists all parameters before all buffers; PyTorch
    /// lists each module's parameters then its buffers, module after module. Grouping by owning module (the name up
    /// to its last dot) in order of first appearance turns the first into the second and leaves the second unchanged.
    /// </summary>
    private static IReadOnlyList<(string Name, Tensor Tensor)> NetworkOrder(IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        var groups = new List<List<(string, Tensor)>>();
        var byOwner = new Dictionary<string, List<(string, Tensor)>>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (IsCounter(name))
                continue;
            var dot = name.LastIndexOf('.');
            var owner = dot < 0 ? "" : name[..dot];
            if (!byOwner.TryGetValue(owner, out var group))
            {
                group = [];
                byOwner[owner] = group;
                groups.Add(group);
            }
            group.Add((name, tensor));
        }
        return groups.SelectMany(g => g).ToArray();
    }

    private static bool ShapesEqual(long[] a, long[] b) => a.AsSpan().SequenceEqual(b);

    private static string Shape(Tensor tensor) => "[" + string.Join(", ", tensor.shape) + "]";

    private static string Listing(IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        const int Shown = 6;
        var shown = tensors.Take(Shown).Select(t => $"{t.Name} {Shape(t.Tensor)}");
        return string.Join(", ", shown) + (tensors.Count > Shown ? $", … ({tensors.Count - Shown} more)" : "");
    }
}

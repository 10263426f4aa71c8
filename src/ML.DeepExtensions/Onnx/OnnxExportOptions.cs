using System.Collections.Generic;

namespace ML.DeepExtensions.Onnx;

/// <summary>Options of <c>ExportToOnnx</c>. Every property has a default; <c>new OnnxExportOptions()</c> exports opset 17.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>Defaults of the options.</summary>
    public static class Defaults
    {
        /// <summary>The default opset: 17 (ONNX Runtime 1.16 and later run it; LayerNormalization is native).</summary>
        public const int OpsetVersion = 17;

        /// <summary>The lowest opset written: 11.</summary>
        public const int MinimumOpsetVersion = 11;

        /// <summary>The highest opset written: 21.</summary>
        public const int MaximumOpsetVersion = 21;
    }

    /// <summary>The ONNX opset of the default domain, <see cref="Defaults.MinimumOpsetVersion"/> … <see cref="Defaults.MaximumOpsetVersion"/>
    /// (default 17). Below 17 LayerNorm is decomposed; below 14 HardSwish is written as x · HardSigmoid(x).</summary>
    public int OpsetVersion { get; set; } = Defaults.OpsetVersion;

    /// <summary>The name of the graph (default <c>ML.DeepExtensions</c>).</summary>
    public string GraphName { get; set; } = "ML.DeepExtensions";

    /// <summary>Extra entries for the model's <c>metadata_props</c>, written after the ones the exporter records
    /// (an entry with the same key replaces the exporter's). Default: none.</summary>
    public IDictionary<string, string> Metadata { get; set; } = new Dictionary<string, string>();

    internal void Validate()
    {
        if (OpsetVersion is < Defaults.MinimumOpsetVersion or > Defaults.MaximumOpsetVersion)
            throw new System.ArgumentOutOfRangeException(nameof(OpsetVersion), OpsetVersion,
                $"OpsetVersion must be between {Defaults.MinimumOpsetVersion} and {Defaults.MaximumOpsetVersion}. Received: OpsetVersion={OpsetVersion}");
        Guard.NotEmpty(GraphName);
        Guard.NotNull(Metadata);
    }
}

using System;
using System.Linq;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Tasks;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions;

/// <summary>
/// Options shared by every supervised network trainer — on feature vectors, images or text: the engine settings of
/// <see cref="TrainerOptions"/>, the label column, initial weights and the names of the prediction columns. Each
/// trainer's options add its input column and network; they are validated once, when the trainer is created.
/// </summary>
public abstract class SupervisedTrainerOptions : TrainerOptions
{
    /// <summary>Label column (default <c>Label</c>); its type depends on the task.</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>
    /// Initial weights from a local file (TorchSharp, PyTorch state dict or safetensors), copied into the network
    /// before training: by name when every name matches, otherwise by order and shape. The output layer is
    /// loaded too when its shape matches, and keeps its fresh initialisation when the class count differs.
    /// Combine with <see cref="TrainerOptions.FreezeBackboneEpochs"/> and <see cref="TrainerOptions.BackboneLearningRateFactor"/>
    /// to fine-tune. Null trains from random weights (default).
    /// </summary>
    public Pretrained.PretrainedWeights? PretrainedWeights { get; set; }

    /// <summary>
    /// Example-weight column (Single, each finite and ≥ 0), as ML.NET's trainers have; null (default) weighs every example
    /// 1. The training loss becomes the weighted mean Σ wᵢ·lossᵢ / Σ wᵢ (with class weights, PyTorch's weighted mean). The
    /// reported validation metrics stay unweighted, like ML.NET's evaluators.
    /// </summary>
    public string? ExampleWeightColumnName { get; set; }

    /// <summary>Names of the added prediction columns (defaults Score, Probability, PredictedLabel).</summary>
    public OutputColumnNames OutputColumns { get; set; } = new();

    /// <summary>The task's loss settings (regression loss, class weights, label smoothing).</summary>
    internal virtual ObjectiveSettings Objective => new();

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        Guard.NotEmpty(LabelColumnName);
        Guard.NotNull(OutputColumns);
        if (ExampleWeightColumnName is not null)
            Guard.NotEmpty(ExampleWeightColumnName);
    }

    /// <summary>The checks of the multiclass settings, shared by every multiclass trainer's options.</summary>
    internal static void ValidateMulticlass(float[]? classWeights, double labelSmoothing)
    {
        Guard.InRange(labelSmoothing, 0, 1, name: "LabelSmoothing");
        if (classWeights is { } weights && weights.Any(w => !(w > 0) || !float.IsFinite(w)))
            throw new ArgumentOutOfRangeException("ClassWeights", $"ClassWeights must all be positive finite numbers. Received: ClassWeights=[{string.Join(", ", weights)}]");
    }
}

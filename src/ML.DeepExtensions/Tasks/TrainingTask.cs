using System;
using Microsoft.ML;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;

namespace ML.DeepExtensions.Tasks;

/// <summary>
/// The task contract: everything that differs between task families (regression on vectors, image classes, text
/// classes, next-token prediction, later boxes or transcripts), written once per family. The
/// <see cref="FittingPipeline"/> does the rest — seed, device, split, seeded build, the engine, disposal on failure —
/// and the engine (<see cref="TrainingLoop"/>) knows nothing of any task.
/// </summary>
/// <remarks>
/// A task answers four questions: which columns it needs (<see cref="Plan"/> on the data's schema, and
/// <see cref="OutputSchema"/> on a <see cref="SchemaShape"/>, with the same checks and the same messages), how rows
/// become tensors (<see cref="Read"/>: a <see cref="BatchSource"/> decides batch assembly — padding, trimming, later
/// bucketing or letterboxing — and may put several tensors in a <see cref="Batch"/>), what is optimised and measured
/// (<see cref="CreateObjective"/>: a loss and metrics whose names early stopping can monitor, so mAP or WER plug in as
/// validation metrics), and which network it trains (<see cref="TaskNetwork.Network"/>, its head included). What the
/// fitted model outputs is the estimator's business: it wraps the <see cref="FittedNetwork"/> in its transformer.
/// </remarks>
internal abstract class TrainingTask
{
    /// <summary>
    /// Checks the training schema (and the validation schema, when a validation set is given) and decides the network
    /// and the shape of one example. Called before any row is read; every schema error is thrown here.
    /// </summary>
    public abstract TaskNetwork Plan(DataViewSchema training, DataViewSchema? validation);

    /// <summary>The input schema shape with the columns the fitted model adds; throws as <see cref="Plan"/> does.</summary>
    public abstract SchemaShape OutputSchema(SchemaShape input);

    /// <summary>
    /// Batches of the rows of <paramref name="data"/> that <paramref name="rows"/> selects (null: all), described as
    /// <paramref name="role"/> in messages ("training", "validation"). Bad values are reported before training where the
    /// data is held in memory.
    /// </summary>
    public abstract BatchSource Read(IDataView data, Func<long, bool>? rows, string role, TrainerOptions options);

    /// <summary>The loss and metrics; created after the network is built, disposed with the fitting scope.</summary>
    public abstract TrainingObjective CreateObjective();

    /// <summary>
    /// State tensors of the task's output layer at the end of the built <paramref name="network"/>, which pretrained weights
    /// may leave fresh (a new class count) and <see cref="TrainerOptions.FreezeBackboneEpochs"/> keeps learning (default 2: a
    /// Dense layer).
    /// </summary>
    public virtual int HeadTensors(TorchSharp.torch.nn.Module network) => 2;
}

/// <summary>The network a task trains (its head included) and the shape of one example, without the batch dimension.</summary>
internal sealed record TaskNetwork(Network Network, int[] InputShape);

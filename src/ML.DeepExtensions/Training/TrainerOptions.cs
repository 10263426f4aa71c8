using System;
using System.Threading;
using Microsoft.ML;

namespace ML.DeepExtensions.Training;

/// <summary>How batches are fed to the network.</summary>
public enum DataLoading
{
    /// <summary>In memory when the data fits in <see cref="TrainerOptions.MaxInMemoryBytes"/>, streaming otherwise (default).</summary>
    Auto,
    /// <summary>Read once into memory; exact shuffling each epoch.</summary>
    InMemory,
    /// <summary>Read through a cursor every epoch; shuffling within a buffer of <see cref="TrainerOptions.ShuffleBufferRows"/> rows.</summary>
    Streaming,
}

/// <summary>Number format of a training step's forward pass.</summary>
public enum TrainingPrecision
{
    /// <summary>float32 throughout (default).</summary>
    Float32,
    /// <summary>
    /// Mixed bfloat16, PyTorch's <c>torch.autocast(dtype=torch.bfloat16)</c>: in each training step's forward pass the
    /// matrix products, linear layers, convolutions and recurrent layers run in bfloat16 (libtorch's autocast list), the
    /// rest in float32 — also the fused attention on the CPU, whose bfloat16 kernel is slower there; weights, gradients,
    /// optimizer state and the loss stay float32, and validation and scoring run in float32. Faster where the CPU multiplies bfloat16 natively (AVX512_BF16 or AMX) and the products dominate.
    /// </summary>
    MixedBFloat16,
}

/// <summary>
/// Settings of the training engine shared by every network trainer. Each property documents its default;
/// the shortest trainer call uses them all.
/// </summary>
public class TrainerOptions
{
    /// <summary>Default values, used by options and by the catalogs' short overloads.</summary>
    public static class Defaults
    {
        /// <summary>Passes over the training data.</summary>
        public const int Epochs = 20;
        /// <summary>Examples per step.</summary>
        public const int BatchSize = 32;
        /// <summary>Base learning rate (suits Adam).</summary>
        public const double LearningRate = 1e-3;
    }

    /// <summary>Passes over the training data, &gt; 0 (default 20).</summary>
    public int Epochs { get; set; } = Defaults.Epochs;

    /// <summary>
    /// Examples per optimisation step, &gt; 0 (default 32). Ignored by <see cref="OptimizerKind.GradientDescent"/>.
    /// When the network has a batch-norm layer and an epoch would end with a batch of one row (rows = k × BatchSize + 1),
    /// that row joins the previous batch (one batch of BatchSize + 1): batch statistics of a single value are
    /// meaningless and make the running variance NaN. The rows of every epoch and their shuffled order are unchanged.
    /// </summary>
    public int BatchSize { get; set; } = Defaults.BatchSize;

    /// <summary>Update rule (default <see cref="OptimizerKind.Adam"/>).</summary>
    public OptimizerKind Optimizer { get; set; } = OptimizerKind.Adam;

    /// <summary>Base learning rate, &gt; 0 (default 1e-3).</summary>
    public double LearningRate { get; set; } = Defaults.LearningRate;

    /// <summary>Momentum μ of <see cref="OptimizerKind.Momentum"/> and <see cref="OptimizerKind.Nesterov"/>, in [0, 1) (default 0.9).</summary>
    public double Momentum { get; set; } = 0.9;

    /// <summary>Decay α of RMSprop's squared-gradient average, in [0, 1) (default 0.99).</summary>
    public double RmsDecay { get; set; } = 0.99;

    /// <summary>Adam β₁, in [0, 1) (default 0.9).</summary>
    public double Beta1 { get; set; } = 0.9;

    /// <summary>Adam β₂, in [0, 1) (default 0.999).</summary>
    public double Beta2 { get; set; } = 0.999;

    /// <summary>Denominator ε of RMSprop and Adam, &gt; 0 (default 1e-8).</summary>
    public double Epsilon { get; set; } = 1e-8;

    /// <summary>Decoupled weight decay of <see cref="OptimizerKind.AdamW"/>, ≥ 0 (default 0.01).</summary>
    public double WeightDecay { get; set; } = 0.01;

    /// <summary>Learning-rate schedule (default constant).</summary>
    public LearningRateSchedule Schedule { get; set; } = LearningRateSchedule.Constant();

    /// <summary>Epochs of linear warm-up from 0 to the scheduled rate, ≥ 0 (default 0).</summary>
    public double WarmupEpochs { get; set; }

    /// <summary>L1 penalty λ₁·Σ|w| added to the loss, over weight tensors (not biases or normalization scales), ≥ 0 (default 0).</summary>
    public double L1 { get; set; }

    /// <summary>L2 penalty λ₂·Σw² added to the loss, over weight tensors (not biases or normalization scales), ≥ 0 (default 0).</summary>
    public double L2 { get; set; }

    /// <summary>Clip the global gradient norm to this value before each step; null disables (default).</summary>
    public double? GradientClipNorm { get; set; }

    /// <summary>Validation data scored in full after every epoch; takes precedence over <see cref="ValidationFraction"/>.</summary>
    public IDataView? ValidationSet { get; set; }

    /// <summary>Fraction of training rows held out (seeded, by row) for validation, in [0, 1) (default 0).</summary>
    public double ValidationFraction { get; set; }

    /// <summary>Early stopping and restore-best-weights; null disables (default).</summary>
    public EarlyStopping? EarlyStopping { get; set; }

    /// <summary>
    /// Directory that receives a checkpoint after every epoch (created if missing; its parent must exist). Null disables
    /// (default). It must not be a file (checked when the trainer is created) and must be writable (checked when
    /// <c>Fit</c> starts, before any data is read; a <c>checkpoint.bin.tmp</c> left by a killed run is removed then).
    /// </summary>
    public string? CheckpointDirectory { get; set; }

    /// <summary>
    /// A directory holding a checkpoint written by an earlier run with the same network; training continues from it up to
    /// <see cref="Epochs"/> in total, which must be at least the checkpoint's completed epochs. The resumed run equals an
    /// uninterrupted one bit for bit (same seed, device and thread count): the checkpoint holds the weights, the optimizer
    /// and schedule state, and the state of every random generator (dropout, drop-path, augmentation layers).
    /// </summary>
    public string? ResumeFromCheckpoint { get; set; }

    /// <summary>
    /// Receives the metrics of every epoch as it ends. <see cref="System.Progress{T}"/> posts them to the thread pool, so
    /// its output may come after <c>Fit</c> returns; for ordered, synchronous reports use <see cref="Callback"/>.
    /// </summary>
    public IProgress<EpochMetrics>? Progress { get; set; }

    /// <summary>
    /// Called synchronously on the training thread after every batch and every epoch and at every engine decision (early
    /// stop, restored weights, learning-rate reduction, backbone freeze, resume) — ordered, and all before <c>Fit</c>
    /// returns; e.g. a progress bar with rate and ETA. Null (default): none.
    /// </summary>
    public TrainingCallback? Callback { get; set; }

    /// <summary>
    /// Checked between batches; cancelling throws <see cref="OperationCanceledException"/> and leaves no model. When the
    /// process exits while <c>Fit</c> runs on another thread, training stops the same way at the next batch (the exit
    /// waits for it), so native work never races the shutdown.
    /// </summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>How batches are read (default <see cref="DataLoading.Auto"/>).</summary>
    public DataLoading DataLoading { get; set; } = DataLoading.Auto;

    /// <summary>
    /// Memory budget of the in-memory path in bytes, &gt; 0 (default 1 GiB), per data set (training and validation each),
    /// counted as 4 bytes per feature value and label. With <see cref="DataLoading.Auto"/> data over the budget is streamed;
    /// with <see cref="DataLoading.InMemory"/> it is an error naming both settings.
    /// </summary>
    public long MaxInMemoryBytes { get; set; } = 1L << 30;

    /// <summary>Rows shuffled together by the streaming path, &gt; 0 (default 8192).</summary>
    public int ShuffleBufferRows { get; set; } = 8192;

    /// <summary>Whether training rows are shuffled each epoch (default true).</summary>
    public bool Shuffle { get; set; } = true;

    /// <summary>
    /// Epochs at the start during which the backbone (every layer but the output layer the trainer appends) is
    /// frozen and only the output layer learns, ≥ 0 (default 0). The usual first phase of fine-tuning
    /// pretrained weights; the backbone then learns at <see cref="BackboneLearningRateFactor"/> × the rate. While frozen,
    /// the backbone's batch norms run in inference mode (running statistics, not updated), so it computes exactly the
    /// features it was loaded with.
    /// </summary>
    public int FreezeBackboneEpochs { get; set; }

    /// <summary>The backbone's learning rate relative to the output layer's, in (0, 1] (default 1); e.g. 0.1 for fine-tuning.</summary>
    public double BackboneLearningRateFactor { get; set; } = 1;

    /// <summary>
    /// Layer-wise learning-rate decay for fine-tuning, in (0, 1] (default 1: off). The backbone is cut into blocks from the
    /// input up — each layer of the network, and inside a layer each numbered sub-module in order (a BERT or Transformer
    /// block, a zoo stage), with what precedes the first one (e.g. BERT's embeddings) as the lowest block — and the k-th block
    /// below the output layer learns at decay^k × <see cref="BackboneLearningRateFactor"/> × the rate: the lower, more general
    /// layers move least (e.g. 0.9 for a 6-block BERT: embeddings at 0.48 × the rate, the top block at 0.9 ×).
    /// </summary>
    public double LayerwiseLearningRateDecay { get; set; } = 1;

    /// <summary>Examples per forward pass when scoring, &gt; 0 (default 256).</summary>
    public int ScoringBatchSize { get; set; } = 256;

    /// <summary>
    /// Threads torch uses inside one operation, &gt; 0, while <c>Fit</c> runs and while the fitted model scores
    /// (its <c>NumberOfThreads</c>); null (default) leaves torch's setting alone (by default one per core). Set and
    /// restored around each call on the calling thread. Use 1 when other work shares the cores: torch's threads then
    /// never wait for a descheduled sibling, which on a busy 2-core machine made training 7× and scoring 10× slower.
    /// </summary>
    public int? NumberOfThreads { get; set; }

    /// <summary>
    /// Number format of the training steps' forward pass (default <see cref="TrainingPrecision.Float32"/>).
    /// <see cref="TrainingPrecision.MixedBFloat16"/> runs matrix products and convolutions in bfloat16 — about 8
    /// significant bits instead of 24, so losses and weights differ from a float32 run in the third digit — and is worth
    /// measuring on wide layers: at one thread on an AMD Zen 4 (AVX512_BF16) it trained the benchmark's LSTMs ~1.8–2.1×,
    /// ResNet and MLP 1.3–1.5× and its Transformers 1.5–1.7× as fast as float32, LeNet-5's narrow convolutions 0.71×;
    /// a short fine-tuning of a pretrained BERT lost accuracy (README, Benchmarks and Limits). On a CPU without native
    /// bfloat16 the products are emulated and <c>Fit</c> logs a warning; devices other than CPU and CUDA are refused
    /// before training starts. A saved model stores float32 weights and scores in float32.
    /// </summary>
    public TrainingPrecision Precision { get; set; } = TrainingPrecision.Float32;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> or <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public virtual void Validate()
    {
        Guard.Positive(Epochs);
        Guard.Positive(BatchSize);
        Guard.Positive(LearningRate);
        Guard.InRange(Momentum, 0, 1);
        Guard.InRange(RmsDecay, 0, 1);
        Guard.InRange(Beta1, 0, 1);
        Guard.InRange(Beta2, 0, 1);
        Guard.Positive(Epsilon);
        Guard.NonNegative(WeightDecay);
        Guard.NotNull(Schedule);
        Guard.NonNegative(WarmupEpochs);
        Guard.NonNegative(L1);
        Guard.NonNegative(L2);
        if (GradientClipNorm is { } clip)
            Guard.Positive(clip, nameof(GradientClipNorm));
        Guard.InRange(ValidationFraction, 0, 1);
        Guard.Positive(MaxInMemoryBytes, nameof(MaxInMemoryBytes));
        Guard.Positive(ShuffleBufferRows);
        Guard.Positive(ScoringBatchSize);
        Guard.Defined(Precision);
        if (NumberOfThreads is { } threads)
            Guard.Positive(threads, nameof(NumberOfThreads));
        Guard.NonNegative(FreezeBackboneEpochs);
        Guard.InRange(BackboneLearningRateFactor, double.Epsilon, 1, maxInclusive: true);
        Guard.InRange(LayerwiseLearningRateDecay, double.Epsilon, 1, maxInclusive: true);
        if (CheckpointDirectory is not null)
        {
            var full = System.IO.Path.GetFullPath(CheckpointDirectory);
            var parent = System.IO.Path.GetDirectoryName(full);
            if (System.IO.File.Exists(full))
                throw new ArgumentException(
                    $"CheckpointDirectory '{full}' is a file; expected a directory (created if missing) to write '{Checkpoint.FileName}' into. Received: CheckpointDirectory='{CheckpointDirectory}'",
                    nameof(CheckpointDirectory));
            if (parent is not null && !System.IO.Directory.Exists(parent))
                throw new System.IO.DirectoryNotFoundException($"CheckpointDirectory '{full}' cannot be created: its parent directory '{parent}' does not exist.");
        }
        if (ResumeFromCheckpoint is not null && !System.IO.File.Exists(Checkpoint.FilePath(ResumeFromCheckpoint)))
            throw new System.IO.DirectoryNotFoundException(
                $"ResumeFromCheckpoint '{System.IO.Path.GetFullPath(ResumeFromCheckpoint)}' holds no checkpoint: expected the file '{Checkpoint.FileName}' written by a run with CheckpointDirectory set.");
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Onnx;
using ML.DeepExtensions.Runtime;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Text.Interop;
using ML.DeepExtensions.Text.Persistence;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Text.Generation;

/// <summary>
/// A fitted GPT-style language model with its tokenizer. As a transform it maps a prompt column (String) to a
/// continuation column (String) per <see cref="Generation"/> (see <see cref="GenerationOptions"/> for the sampling,
/// length and context policy); <see cref="Generate(IReadOnlyList{string}, GenerationOptions)"/> generates for many prompts in batches,
/// <see cref="Evaluate"/> measures perplexity on held-out text. Saved with <c>mlContext.Model.Save</c> together with
/// its tokenizer and loaded back as this type by <c>mlContext.Model.Load</c> in any process.
/// </summary>
public sealed class LanguageModelTransformer : ITrainedNetworkTransformer, IDisposable
{
    /// <summary>Prompts generated together (by <see cref="Generate(IReadOnlyList{string}, GenerationOptions)"/> and by <c>Transform</c>).</summary>
    internal const int GenerationBatchSize = 64;

    /// <summary>Whether disposing this instance frees the network (copies made by <see cref="WithGeneration"/> share it and do not).</summary>
    private readonly bool _ownsModel;

    internal LanguageModelTransformer(IHostEnvironment env, TokenizingTransformer tokenizer, NetworkModel model, string tokenColumnName,
        GenerationOptions generation, IReadOnlyList<EpochMetrics> history, bool ownsModel = true)
    {
        _ownsModel = ownsModel;
        Environment = env;
        Tokenizer = tokenizer;
        Model = model;
        TokenColumnName = tokenColumnName;
        Generation = generation.Clone();
        History = history;
    }

    /// <summary>The tokenizer the model was trained with (saved inside the model).</summary>
    public TokenizingTransformer Tokenizer { get; }

    /// <summary>The token-id column the model was trained on.</summary>
    public string TokenColumnName { get; }

    /// <summary>The network: a causal <see cref="TransformerLayer"/> followed by a Dense layer to <see cref="VocabularySize"/> logits.</summary>
    public Network Network => Model.Network;

    /// <summary>Context length: the tokenizer's MaxLength (a start position plus MaxLength − 1 tokens when generating).</summary>
    public int MaxLength => Tokenizer.MaxLength;

    /// <summary>Size of the output distribution: the tokenizer's vocabulary, padding (= end of text) included.</summary>
    public int VocabularySize => Tokenizer.VocabularySize;

    /// <summary>Generation settings used by <c>Transform</c> (a copy; change them with <see cref="WithGeneration"/>).</summary>
    public GenerationOptions Generation { get; }

    /// <summary>The prompt column read by <c>Transform</c>.</summary>
    public string PromptColumnName => Generation.PromptColumnName ?? Tokenizer.InputColumnName;

    /// <summary>The continuation column added by <c>Transform</c>.</summary>
    public string OutputColumnName => Generation.OutputColumnName;

    /// <summary>Metrics of every training epoch (<c>Loss</c>, <c>CrossEntropy</c>, <c>Perplexity</c>, <c>Accuracy</c>).</summary>
    public IReadOnlyList<EpochMetrics> History { get; }

    /// <summary>
    /// Threads torch uses inside one operation while this model generates or evaluates, &gt; 0, set and restored around
    /// each call on the calling thread; null leaves torch's setting alone. Taken from the trainer's
    /// <see cref="TrainerOptions.NumberOfThreads"/>; not saved in the model zip, so set it again after loading.
    /// </summary>
    public int? NumberOfThreads
    {
        get => _numberOfThreads;
        set => _numberOfThreads = value is { } threads ? Guard.Positive(threads, nameof(NumberOfThreads)) : null;
    }

    private int? _numberOfThreads;

    internal NetworkModel Model { get; }

    internal IHostEnvironment Environment { get; }

    /// <summary>
    /// The same model (sharing its weights) with other generation settings. The copy does not own the weights: dispose
    /// the original, and use the copy only while the original is alive.
    /// </summary>
    public LanguageModelTransformer WithGeneration(GenerationOptions options)
    {
        Guard.NotNull(options).Validate();
        return new LanguageModelTransformer(Environment, Tokenizer, Model, TokenColumnName, options, History, ownsModel: false) { NumberOfThreads = NumberOfThreads };
    }

    /// <summary>The continuation of one prompt (null counts as empty) per <paramref name="options"/> or <see cref="Generation"/>.</summary>
    public string Generate(string? prompt, GenerationOptions? options = null) => Generate(new[] { prompt ?? "" }, options)[0];

    /// <summary>
    /// The continuation of one prompt (null counts as empty) per <paramref name="options"/> or <see cref="Generation"/>,
    /// stopped by <paramref name="cancellation"/> (checked before every new token).
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled; nothing is returned.</exception>
    public string Generate(string? prompt, GenerationOptions? options, CancellationToken cancellation)
        => Generate(new[] { prompt ?? "" }, options, cancellation)[0];

    /// <summary>Continuations of many prompts, generated in batches; each equals what the prompt gives alone.</summary>
    public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions? options = null)
        => Generate(prompts, options, CancellationToken.None);

    /// <summary>
    /// Continuations of many prompts, generated in batches (each equals what the prompt gives alone), stopped by
    /// <paramref name="cancellation"/>: it is checked before every new token, so even
    /// <see cref="GenerationOptions.MaxNewTokens"/> = <see cref="int.MaxValue"/> ends within one forward pass of a cancel.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled; nothing is returned.</exception>
    public IReadOnlyList<string> Generate(IReadOnlyList<string> prompts, GenerationOptions? options, CancellationToken cancellation)
    {
        Guard.NotNull(prompts);
        options ??= Generation;
        options.Validate();
        var result = new string[prompts.Count];
        for (var start = 0; start < prompts.Count; start += GenerationBatchSize)
        {
            var count = Math.Min(GenerationBatchSize, prompts.Count - start);
            var batch = GenerateBatch(Enumerable.Range(start, count).Select(i => prompts[i] ?? "").ToArray(), options, cancellation);
            batch.CopyTo(result, start);
        }
        return result;
    }

    /// <summary>
    /// Writes the network as a standalone ONNX model (opset 17 by default) that scores token windows without libtorch:
    /// input <c>Tokens</c>, float32 (batch, <see cref="MaxLength"/>) token ids with a dynamic batch dimension; output
    /// <c>Logits</c>, float32 (batch, <see cref="MaxLength"/>, <see cref="VocabularySize"/>). As in <see cref="Generate(string?, GenerationOptions?)"/>,
    /// a window is the padding id (the start position), then the context's ids, then padding; the logits at the position of
    /// the context's last id (its length) predict the next token. Tokenization and sampling stay outside the graph; the
    /// metadata records the vocabulary size, the padding and end-of-text ids and this convention.
    /// </summary>
    /// <param name="stream">Where the model is written; left open.</param>
    /// <param name="options">Opset, graph name and extra metadata; <c>null</c> for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">The opset is outside 11 … 21.</exception>
    public void ExportToOnnx(System.IO.Stream stream, OnnxExportOptions? options = null)
    {
        options ??= new OnnxExportOptions();
        options.Validate();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["task"] = "NextTokenPrediction",
            ["input"] = "Tokens",
            ["input_description"] = "float32 (batch, max_length): the padding id, then the context's token ids, then padding",
            ["max_length"] = MaxLength.ToString(CultureInfo.InvariantCulture),
            ["vocabulary_size"] = VocabularySize.ToString(CultureInfo.InvariantCulture),
            ["padding_id"] = Tokenizer.PaddingId.ToString(CultureInfo.InvariantCulture),
            ["logits"] = "float32 (batch, max_length, vocabulary_size): the logits at position n (the context's length) predict the next token",
            ["network"] = Network.ToJson(),
        };
        if (Tokenizer.EndOfTextId is { } end)
            metadata["end_of_text_id"] = end.ToString(CultureInfo.InvariantCulture);
        NetworkOnnxExport.WriteRawNetwork(Model, stream, options, "Tokens", "Logits", metadata.ToList(), $"Next-token language model exported by ML.DeepExtensions: {Network.Layers.Count} layers.");
    }

    /// <summary>Writes the model as <see cref="ExportToOnnx(System.IO.Stream, OnnxExportOptions?)"/> does, to a file (through a
    /// temporary file, so a failed export leaves no partial file).</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="options">Opset, graph name and extra metadata; <c>null</c> for the defaults.</param>
    public void ExportToOnnx(string path, OnnxExportOptions? options = null) => NetworkOnnxExport.WriteFile(path, stream => ExportToOnnx(stream, options));

    /// <summary>
    /// Log-probabilities (natural log) of every next token after <paramref name="prompt"/>, indexed by token id;
    /// the padding id's entry is the probability that the text ends here. Uses the same context policy as generation.
    /// </summary>
    public float[] NextTokenLogProbabilities(string? prompt)
    {
        var context = PromptIds(prompt ?? "");
        using var threads = TorchThreads.Use(_numberOfThreads);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return HostCopy.ToArray<float>(Logits(new[] { context }).log_softmax(-1)[0]);
    }

    /// <summary>Perplexity of the model on the texts of <paramref name="textColumnName"/> (default: the tokenizer's text column).</summary>
    /// <remarks>Each text is tokenized with the model's tokenizer (same length policy as training); every token and the
    /// end of each text that fits is predicted. Empty texts are skipped.</remarks>
    public LanguageModelMetrics Evaluate(IDataView data, string? textColumnName = null)
    {
        Guard.NotNull(data);
        var rows = TokenRows.FromTextColumn(data, textColumnName ?? Tokenizer.InputColumnName, Tokenizer);
        using var threads = TorchThreads.Use(_numberOfThreads);
        double sum = 0;
        long tokens = 0, correct = 0;
        var length = MaxLength;
        var padding = Tokenizer.PaddingId;
        for (var start = 0; start < rows.Count; start += GenerationBatchSize)
        {
            var count = Math.Min(GenerationBatchSize, rows.Count - start);
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var (features, labels) = TokenRows.Tensors(rows.GetRange(start, count), length, padding);
            var x = features.to(Model.Device);
            var y = labels.to(Model.Device);
            var (s, n, c) = NextTokenObjective.Totals(Model.Module.forward(x), y, padding);
            sum += s;
            tokens += n;
            correct += c;
        }
        return LanguageModelMetrics.From(sum, tokens, correct, rows.Count);
    }

    private string[] GenerateBatch(string[] prompts, GenerationOptions options, CancellationToken cancellation)
    {
        var contexts = prompts.Select(PromptIds).ToArray();
        using var threads = TorchThreads.Use(_numberOfThreads);
        var generated = prompts.Select(_ => new List<int>()).ToArray();
        var random = prompts.Select(_ => new Random(options.Seed)).ToArray();
        var vocabulary = VocabularySize;
        using var decoder = options.UseKeyValueCache ? IncrementalDecoder.TryCreate(Model.Module, MaxLength) : null;
        // Rows continue in one of two groups: `cached` rows (in the decoder's row order) feed only their newest token to the
        // key/value cache; `full` rows get a full pass over their context every step — all rows without a decoder, and rows
        // whose context filled the window and slid (their positions shifted, so their cached keys no longer apply).
        var cached = new List<int>();
        var full = Enumerable.Range(0, prompts.Length).ToList();
        long[] newest = [];
        for (var step = 0; step < options.MaxNewTokens && cached.Count + full.Count > 0; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            var rows = new List<int>(cached.Count + full.Count);
            float[] logits;
            using (var scope = torch.NewDisposeScope())
            using (torch.no_grad())
            {
                Tensor output;
                if (decoder is not null && step == 0)
                {
                    // First step: one full pass fills the cache for every row.
                    (cached, full) = (full, []);
                    output = Logits(cached.Select(i => contexts[i]).ToArray(), decoder);
                }
                else if (cached.Count == 0)
                {
                    output = Logits(full.Select(i => contexts[i]).ToArray());
                }
                else
                {
                    // Each cached row's newest token sits at position = its context length (position 0 is the start).
                    output = decoder!.Next(newest, cached.Select(r => (long)contexts[r].Length).ToArray());
                    if (full.Count > 0)
                        output = torch.cat([output, Logits(full.Select(i => contexts[i]).ToArray())]);
                }
                rows.AddRange(cached);
                rows.AddRange(full);
                logits = HostCopy.ToArray<float>(output);
            }
            var keptInCache = new List<long>(cached.Count);
            var nextCached = new List<int>(cached.Count);
            var nextNewest = new List<long>(cached.Count);
            var nextFull = new List<int>(full.Count);
            for (var a = 0; a < rows.Count; a++)
            {
                var row = rows[a];
                var token = Choose(logits.AsSpan(a * vocabulary, vocabulary), options, random[row], mayEnd: generated[row].Count >= options.MinNewTokens);
                if (token == Tokenizer.PaddingId || token == Tokenizer.EndOfTextId)
                    continue;
                generated[row].Add(token);
                var length = contexts[row].Length;
                contexts[row] = Window(contexts[row].Append(token));
                if (a < cached.Count && contexts[row].Length > length)
                {
                    keptInCache.Add(a);
                    nextCached.Add(row);
                    nextNewest.Add(token);
                }
                else
                {
                    nextFull.Add(row);
                }
            }
            if (decoder is not null && keptInCache.Count != cached.Count && keptInCache.Count > 0)
                decoder.KeepRows(keptInCache.ToArray());
            (cached, full, newest) = (nextCached, nextFull, nextNewest.ToArray());
        }
        return generated.Select(ids => Tokenizer.Decode(ids)).ToArray();
    }

    /// <summary>Prompt ids per the context policy: trailing end-of-text / [SEP] removed, at most MaxLength − 1 kept (the last ones).</summary>
    internal int[] PromptIds(string prompt)
    {
        // A prompt far longer than the context keeps only its last MaxLength − 1 tokens: encode only that end, so the
        // work is bounded by MaxLength rather than by the prompt (BPE on one long run of a character is quadratic). Above
        // 256 characters per context position no token is long enough for the prompt to fit, so the window is the same.
        var ids = prompt.Length > MaxLength * 256
            ? Tokenizer.Tokenizer.EncodeContent(prompt, MaxLength - 1, TruncationSide.KeepLast).ToList()
            : Tokenizer.EncodeToIds(prompt).ToList();
        while (ids.Count > 0 && (ids[^1] == Tokenizer.EndOfTextId || ids[^1] == Tokenizer.SeparatorTokenId))
            ids.RemoveAt(ids.Count - 1);
        return Window(ids);
    }

    private int[] Window(IEnumerable<int> ids)
    {
        var list = ids as IList<int> ?? ids.ToList();
        var keep = Math.Min(list.Count, MaxLength - 1);
        return list.Skip(list.Count - keep).ToArray();
    }

    /// <summary>Next-token logits (rows, vocabulary) after each context (on the model's device); with a
    /// <paramref name="decoder"/>, its cache is filled with the contexts' keys and values.</summary>
    private Tensor Logits(int[][] contexts, IncrementalDecoder? decoder = null)
    {
        // Only as wide as the longest context needs (start position + tokens): later positions cannot change these logits.
        var length = 1 + contexts.Max(c => c.Length);
        var padding = Tokenizer.PaddingId;
        var features = new float[contexts.Length * length];
        Array.Fill(features, padding);
        var positions = new long[contexts.Length];
        for (var r = 0; r < contexts.Length; r++)
        {
            for (var i = 0; i < contexts[r].Length; i++)
                features[r * length + 1 + i] = contexts[r][i];
            positions[r] = contexts[r].Length;
        }
        var x = HostCopy.ToTensor<float>(features, [contexts.Length, length]).to(Model.Device);
        var output = decoder is null ? Model.Module.forward(x) : decoder.Start(x);
        var index = torch.tensor(positions).to(Model.Device).view(-1, 1, 1).expand(-1, 1, output.shape[2]);
        return output.gather(1, index).squeeze(1);
    }

    /// <summary>The <paramref name="k"/>-th largest value (1-based) of <paramref name="values"/>, which it reorders: the value a
    /// descending sort puts at index k − 1, found by quickselect in linear time instead of sorting the vocabulary per token.</summary>
    internal static float KthLargest(float[] values, int k)
    {
        var target = values.Length - k; // ascending index
        int left = 0, right = values.Length - 1;
        while (left < right)
        {
            var pivot = MedianOfThree(values[left], values[left + (right - left) / 2], values[right]);
            int i = left, j = right;
            while (i <= j)
            {
                while (values[i] < pivot)
                    i++;
                while (values[j] > pivot)
                    j--;
                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }
            if (target <= j)
                right = j;
            else if (target >= i)
                left = i;
            else
                return values[target];
        }
        return values[target];
    }

    private static float MedianOfThree(float a, float b, float c) => Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));

    private int Choose(Span<float> logits, GenerationOptions options, Random random, bool mayEnd)
    {
        if (!mayEnd)
        {
            logits[Tokenizer.PaddingId] = float.NegativeInfinity;
            if (Tokenizer.EndOfTextId is { } end)
                logits[end] = float.NegativeInfinity;
        }
        if (!options.AllowUnknownToken && Tokenizer.UnknownTokenId is { } unknown && unknown != Tokenizer.PaddingId)
            logits[unknown] = float.NegativeInfinity;
        if (options.Temperature == 0)
        {
            var best = 0;
            for (var i = 1; i < logits.Length; i++)
                if (logits[i] > logits[best])
                    best = i;
            return best;
        }
        var threshold = float.NegativeInfinity;
        if (options.TopK > 0 && options.TopK < logits.Length)
        {
            threshold = KthLargest(logits.ToArray(), options.TopK);
        }
        var max = float.NegativeInfinity;
        foreach (var v in logits)
            max = Math.Max(max, v);
        var weights = new double[logits.Length];
        double total = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            if (logits[i] < threshold || float.IsNegativeInfinity(logits[i]))
                continue;
            weights[i] = Math.Exp((logits[i] - max) / options.Temperature);
            total += weights[i];
        }
        var draw = random.NextDouble() * total;
        var last = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            if (weights[i] == 0)
                continue;
            last = i;
            draw -= weights[i];
            if (draw < 0)
                return i;
        }
        return last;
    }

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        Guard.NotNull(inputSchema);
        return LanguageModelInterop.OutputSchema(this, inputSchema);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        Guard.NotNull(inputSchema);
        return LanguageModelInterop.RowToRowMapper(this, inputSchema);
    }

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        Guard.NotNull(input);
        return LanguageModelInterop.Transform(this, input);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => LanguageModelFormat.Save(ctx, this);

    /// <summary>Frees the network's native memory now rather than at finalization (not for copies from <see cref="WithGeneration"/>).</summary>
    public void Dispose()
    {
        if (_ownsModel)
            Model.Dispose();
    }
}

/// <summary>Perplexity of a language model (or a baseline) on a set of texts.</summary>
/// <param name="CrossEntropy">Mean negative log-likelihood per predicted token, in nats (tokens and ends of text).</param>
/// <param name="Perplexity">e^CrossEntropy: the effective number of equally likely choices per token.</param>
/// <param name="Tokens">Number of predicted tokens (ends of text included).</param>
/// <param name="Texts">Number of non-empty texts.</param>
/// <param name="Accuracy">Share of tokens that were the model's most likely next token.</param>
public sealed record LanguageModelMetrics(double CrossEntropy, double Perplexity, long Tokens, long Texts, double Accuracy)
{
    internal static LanguageModelMetrics From(double sum, long tokens, long correct, long texts)
    {
        var crossEntropy = tokens == 0 ? double.NaN : sum / tokens;
        return new LanguageModelMetrics(crossEntropy, Math.Exp(crossEntropy), tokens, texts, tokens == 0 ? double.NaN : (double)correct / tokens);
    }

    /// <summary>
    /// The unigram baseline: every token (and the end of text) predicted with its frequency in
    /// <paramref name="training"/>, add-one smoothed over the tokenizer's vocabulary, evaluated on <paramref name="test"/>
    /// with the same targets as <see cref="LanguageModelTransformer.Evaluate"/>.
    /// </summary>
    public static LanguageModelMetrics Unigram(TokenizingTransformer tokenizer, IDataView training, IDataView test, string? textColumnName = null)
    {
        Guard.NotNull(tokenizer);
        Guard.NotNull(training);
        Guard.NotNull(test);
        var column = textColumnName ?? tokenizer.InputColumnName;
        var counts = new double[tokenizer.VocabularySize];
        foreach (var ids in TokenRows.FromTextColumn(training, column, tokenizer))
            foreach (var id in Targets(ids, tokenizer.PaddingId))
                counts[id]++;
        var total = counts.Sum() + counts.Length;
        double sum = 0;
        long tokens = 0, correct = 0;
        var mode = Array.IndexOf(counts, counts.Max());
        var rows = TokenRows.FromTextColumn(test, column, tokenizer);
        foreach (var ids in rows)
        {
            foreach (var id in Targets(ids, tokenizer.PaddingId))
            {
                sum -= Math.Log((counts[id] + 1) / total);
                tokens++;
                if (id == mode)
                    correct++;
            }
        }
        return From(sum, tokens, correct, rows.Count);
    }

    private static IEnumerable<int> Targets(int[] ids, int paddingId)
    {
        foreach (var id in ids)
        {
            yield return id;
            if (id == paddingId)
                yield break;
        }
    }
}

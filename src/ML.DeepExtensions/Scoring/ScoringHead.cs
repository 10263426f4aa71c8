using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Scoring;

/// <summary>Scores of a batch of rows, already turned into column values.</summary>
internal sealed class ScoredBatch(int rows, float[] scores, float[]? probabilities, uint[]? keys)
{
    public int Rows { get; } = rows;
    public float[] Scores { get; } = scores;
    public float[]? Probabilities { get; } = probabilities;
    public uint[]? Keys { get; } = keys;
}

/// <summary>
/// Turns raw network outputs into ML.NET's standard prediction columns for one <see cref="NetworkTask"/>,
/// with the annotations evaluators, <c>PredictionEngine</c> and <c>MapKeyToValue</c> expect.
/// </summary>
internal sealed class ScoringHead
{
    public const string ScoreColumnKind = "ScoreColumnKind";
    public const string ScoreValueKind = "ScoreValueKind";

    public ScoringHead(NetworkTask kind, int outputs, string[]? classNames, OutputColumnNames names, string? classValueType = null)
    {
        Kind = kind;
        Outputs = outputs;
        ClassNames = classNames;
        Names = names;
        ClassValueType = classValueType ?? ClassValues.Text;
    }

    public NetworkTask Kind { get; }

    /// <summary>Network outputs per row: 1, or K classes.</summary>
    public int Outputs { get; }

    /// <summary>Class names (label key values) for multiclass, or null.</summary>
    public string[]? ClassNames { get; }

    /// <summary>The type of the class values, by the name <see cref="ClassValues"/> stores (String by default).</summary>
    public string ClassValueType { get; }

    public OutputColumnNames Names { get; }

    /// <summary>
    /// Why this head cannot score a network with <paramref name="networkOutputs"/> outputs per row, or null: the kind must be
    /// defined; regression and binary heads take 1 output, multiclass heads at least 2 and as many class names as outputs
    /// (or none), other kinds no class names; the added columns need distinct non-empty names. Used when loading a model,
    /// whose header must agree with the network it describes.
    /// </summary>
    internal string? Problem(int networkOutputs)
    {
        if (!Enum.IsDefined(Kind))
            return $"has a header whose kind {(int)Kind} is not a NetworkTask";
        if (Outputs != networkOutputs)
            return $"has a header that says outputs={Outputs}, but its network has {networkOutputs} outputs";
        var expected = Kind switch
        {
            NetworkTask.Regression or NetworkTask.BinaryClassification => Outputs == 1 ? null : "1",
            NetworkTask.MulticlassClassification => Outputs >= 2 ? null : "at least 2",
            _ => Outputs >= 1 ? null : "at least 1",
        };
        if (expected is not null)
            return $"has a header whose kind {Kind} needs {expected} network outputs, but its network has {Outputs}";
        if (ClassNames is { } classes)
        {
            if (Kind != NetworkTask.MulticlassClassification)
                return $"has a header with {classes.Length} class names for a {Kind} model, which has none";
            if (classes.Length != Outputs)
                return $"has a header with {classes.Length} class names for {Outputs} network outputs";
            if (classes.Any(c => c is null))
                return "has a header with a missing class name";
            if (ClassValues.Problem(ClassValueType, classes) is { } classProblem)
                return classProblem;
        }
        if (Names is null)
            return "has a header without output column names";
        var used = Columns.Select(c => c.Name).ToArray();
        if (used.Any(string.IsNullOrWhiteSpace))
            return $"has a header with an empty output column name for a {Kind} model";
        if (used.Distinct(StringComparer.Ordinal).Count() != used.Length)
            return $"has a header whose output columns repeat a name ({string.Join(", ", used)})";
        return null;
    }

    /// <summary>Names and types of the added columns, in schema order.</summary>
    public IReadOnlyList<(string Name, DataViewType Type)> Columns => Kind switch
    {
        NetworkTask.Regression => [(Names.Score, NumberDataViewType.Single)],
        NetworkTask.FeatureExtraction => [(Names.Features, new VectorDataViewType(NumberDataViewType.Single, Outputs))],
        NetworkTask.BinaryClassification =>
        [
            (Names.Score, NumberDataViewType.Single),
            (Names.Probability, NumberDataViewType.Single),
            (Names.PredictedLabel, BooleanDataViewType.Instance),
        ],
        _ =>
        [
            (Names.Score, new VectorDataViewType(NumberDataViewType.Single, Outputs)),
            (Names.PredictedLabel, new KeyDataViewType(typeof(uint), Outputs)),
        ],
    };

    /// <summary>The input schema with the prediction columns appended (hiding same-named inputs).</summary>
    public DataViewSchema OutputSchema(DataViewSchema input)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        var kindName = Kind.ToString();
        foreach (var (name, type) in Columns)
        {
            var annotations = new DataViewSchema.Annotations.Builder();
            annotations.Add(ScoreColumnKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = kindName.AsMemory());
            var valueKind = Kind == NetworkTask.FeatureExtraction ? "Features"
                : name == Names.Score ? "Score" : name == Names.Probability ? "Probability" : "PredictedLabel";
            annotations.Add(ScoreValueKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = valueKind.AsMemory());
            if (ClassNames is { } classes && Kind == NetworkTask.MulticlassClassification)
            {
                var vectorType = new VectorDataViewType(TextDataViewType.Instance, classes.Length);
                ValueGetter<VBuffer<ReadOnlyMemory<char>>> getNames = (ref VBuffer<ReadOnlyMemory<char>> v)
                    => v = new VBuffer<ReadOnlyMemory<char>>(classes.Length, classes.Select(c => c.AsMemory()).ToArray());
                if (name == Names.Score)
                    annotations.AddSlotNames(classes.Length, getNames);
                else if (name == Names.PredictedLabel)
                    ClassValues.AddKeyValues(annotations, ClassValueType, classes);
            }
            builder.AddColumn(name, type, annotations.ToAnnotations());
        }
        return builder.ToSchema();
    }

    /// <summary>Column values for <paramref name="rows"/> rows of raw outputs.</summary>
    public ScoredBatch Score(float[] raw, int rows)
    {
        switch (Kind)
        {
            case NetworkTask.Regression:
            case NetworkTask.FeatureExtraction:
                return new ScoredBatch(rows, raw, null, null);
            case NetworkTask.BinaryClassification:
                var probabilities = new float[rows];
                for (var i = 0; i < rows; i++)
                    probabilities[i] = 1f / (1f + MathF.Exp(-raw[i]));
                return new ScoredBatch(rows, raw, probabilities, null);
            default:
                var keys = new uint[rows];
                for (var i = 0; i < rows; i++)
                    keys[i] = SoftmaxInPlace(raw.AsSpan(i * Outputs, Outputs)) + 1;
                return new ScoredBatch(rows, raw, null, keys);
        }
    }

    /// <summary>Softmax of <paramref name="values"/> in place; returns the arg-max (0-based).</summary>
    private static uint SoftmaxInPlace(Span<float> values)
    {
        var max = float.NegativeInfinity;
        var argMax = 0;
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] > max)
                (max, argMax) = (values[i], i);
        }
        var sum = 0f;
        for (var i = 0; i < values.Length; i++)
            sum += values[i] = MathF.Exp(values[i] - max);
        for (var i = 0; i < values.Length; i++)
            values[i] /= sum;
        return (uint)argMax;
    }

    /// <summary>A getter for added column <paramref name="name"/> reading row <paramref name="row"/>() of <paramref name="batch"/>().</summary>
    public Delegate MakeGetter(string name, Func<ScoredBatch> batch, Func<int> row)
    {
        if (Kind == NetworkTask.FeatureExtraction || (name == Names.Score && Kind == NetworkTask.MulticlassClassification))
        {
            return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
            {
                var editor = VBufferEditor.Create(ref value, Outputs);
                batch().Scores.AsSpan(row() * Outputs, Outputs).CopyTo(editor.Values);
                value = editor.Commit();
            });
        }
        if (name == Names.Score)
            return (ValueGetter<float>)((ref float value) => value = batch().Scores[row()]);
        if (name == Names.Probability)
            return (ValueGetter<float>)((ref float value) => value = batch().Probabilities![row()]);
        if (Kind == NetworkTask.BinaryClassification)
            return (ValueGetter<bool>)((ref bool value) => value = batch().Scores[row()] > 0);
        return (ValueGetter<uint>)((ref uint value) => value = batch().Keys![row()]);
    }
}

/// <summary>Names of the added columns (ML.NET defaults: Score, Probability, PredictedLabel, Features).</summary>
/// <param name="Score">Score column.</param>
/// <param name="Probability">Probability column (binary classification only).</param>
/// <param name="PredictedLabel">Predicted label column (classification only).</param>
/// <param name="Features">Feature column of a feature extractor (see <c>ExtractNetworkFeatures</c>).</param>
public sealed record OutputColumnNames(string Score = "Score", string Probability = "Probability", string PredictedLabel = "PredictedLabel", string Features = "Features");

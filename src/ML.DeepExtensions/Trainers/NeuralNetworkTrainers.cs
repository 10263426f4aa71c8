using System;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;
using TorchSharp;

namespace ML.DeepExtensions.Trainers;

/// <summary>Regression network on a feature vector. Label: Single or Double. Output: <c>Score</c>.</summary>
public sealed class NeuralNetworkRegressionTrainer : NeuralNetworkTrainerBase<NeuralNetworkRegressionOptions>
{
    internal NeuralNetworkRegressionTrainer(IHostEnvironment env, NeuralNetworkRegressionOptions options)
        : base(env, options, nameof(NeuralNetworkRegressionTrainer))
    {
    }

    private protected override NetworkTask Kind => NetworkTask.Regression;

    private protected override int CheckLabel(DataViewSchema.Column label)
        => label.Type == NumberDataViewType.Single || label.Type == NumberDataViewType.Double
            ? 1
            : throw SchemaChecks.Mismatch("label", label.Name, "Single or Double", label.Type);

    private protected override void CheckLabel(SchemaShape.Column label)
    {
        if (label.Kind != SchemaShape.Column.VectorKind.Scalar || (label.ItemType != NumberDataViewType.Single && label.ItemType != NumberDataViewType.Double))
            throw new ArgumentOutOfRangeException(nameof(label), $"Schema mismatch for label column '{label.Name}': expected Single or Double, got {label.GetTypeString()}.");
    }

    private protected override LabelGetterFactory LabelGetter(DataViewSchema.Column label) => row =>
    {
        if (label.Type == NumberDataViewType.Double)
        {
            var getDouble = row.GetGetter<double>(label);
            double d = 0;
            return () => { getDouble(ref d); return (float)d; };
        }
        var get = row.GetGetter<float>(label);
        float value = 0;
        return () => { get(ref value); return value; };
    };

    private protected override TrainingObjective CreateObjective(int outputs) => new RegressionObjective(Options.Loss);
}

/// <summary>Binary classification network on a feature vector. Label: Boolean. Outputs: <c>Score</c>, <c>Probability</c>, <c>PredictedLabel</c>.</summary>
public sealed class NeuralNetworkBinaryTrainer : NeuralNetworkTrainerBase<NeuralNetworkBinaryOptions>
{
    internal NeuralNetworkBinaryTrainer(IHostEnvironment env, NeuralNetworkBinaryOptions options)
        : base(env, options, nameof(NeuralNetworkBinaryTrainer))
    {
    }

    private protected override NetworkTask Kind => NetworkTask.BinaryClassification;

    private protected override int CheckLabel(DataViewSchema.Column label)
        => label.Type == BooleanDataViewType.Instance
            ? 1
            : throw SchemaChecks.Mismatch("label", label.Name, "Boolean (convert with e.g. mlContext.Transforms.CustomMapping or load the column as Boolean)", label.Type);

    private protected override void CheckLabel(SchemaShape.Column label)
    {
        if (label.Kind != SchemaShape.Column.VectorKind.Scalar || label.ItemType != BooleanDataViewType.Instance)
            throw new ArgumentOutOfRangeException(nameof(label), $"Schema mismatch for label column '{label.Name}': expected Boolean, got {label.GetTypeString()}.");
    }

    private protected override LabelGetterFactory LabelGetter(DataViewSchema.Column label) => row =>
    {
        var get = row.GetGetter<bool>(label);
        bool value = false;
        return () => { get(ref value); return value ? 1f : 0f; };
    };

    private protected override TrainingObjective CreateObjective(int outputs) => new BinaryObjective();
}

/// <summary>
/// Multiclass network on a feature vector. Label: a key type with K values. Outputs: <c>Score</c> (K
/// probabilities) and <c>PredictedLabel</c> (a key with the label's values, so <c>MapKeyToValue</c> works).
/// </summary>
public sealed class NeuralNetworkMulticlassTrainer : NeuralNetworkTrainerBase<NeuralNetworkMulticlassOptions>
{
    internal NeuralNetworkMulticlassTrainer(IHostEnvironment env, NeuralNetworkMulticlassOptions options)
        : base(env, options, nameof(NeuralNetworkMulticlassTrainer))
    {
    }

    private protected override NetworkTask Kind => NetworkTask.MulticlassClassification;

    private protected override int CheckLabel(DataViewSchema.Column label)
    {
        if (label.Type is not KeyDataViewType key || key.RawType != typeof(uint) || key.Count < 2 || key.Count > int.MaxValue)
            throw SchemaChecks.Mismatch("label", label.Name, "a key type of UInt32 with at least 2 values (use mlContext.Transforms.Conversion.MapValueToKey)", label.Type);
        var classes = (int)key.Count;
        if (Options.ClassWeights is { } weights && weights.Length != classes)
            throw new ArgumentException($"ClassWeights has {weights.Length} values but label column '{label.Name}' has {classes} classes; give one weight per class.", nameof(Options.ClassWeights));
        return classes;
    }

    private protected override void CheckLabel(SchemaShape.Column label)
    {
        if (!label.IsKey || label.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw new ArgumentOutOfRangeException(nameof(label), $"Schema mismatch for label column '{label.Name}': expected a key type (use mlContext.Transforms.Conversion.MapValueToKey), got {label.GetTypeString()}.");
    }

    private protected override LabelGetterFactory LabelGetter(DataViewSchema.Column label) => row =>
    {
        var get = row.GetGetter<uint>(label);
        uint key = 0;
        // Key 0 means "missing" (a value outside the key's dictionary): reported as NaN with its row by the reader.
        return () => { get(ref key); return key == 0 ? float.NaN : key - 1; };
    };

    private protected override TrainingObjective CreateObjective(int outputs)
    {
        var weights = Options.ClassWeights is { } w ? torch.tensor(w) : null;
        return new MulticlassObjective(weights, Options.LabelSmoothing);
    }

    private protected override string[]? ClassNames(DataViewSchema.Column label)
    {
        var keyValues = label.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues);
        if (keyValues is not { Type: VectorDataViewType vector })
            return null;
        var method = typeof(NeuralNetworkMulticlassTrainer).GetMethod(nameof(ReadKeyValues), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(vector.ItemType.RawType);
        return (string[])method.Invoke(null, [label])!;
    }

    private static string[] ReadKeyValues<T>(DataViewSchema.Column label)
    {
        VBuffer<T> values = default;
        label.GetKeyValues(ref values);
        return values.DenseValues().Select(v => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "").ToArray();
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Tasks;

/// <summary>
/// What a supervised network predicts — a number, one of two classes, one of K classes — and everything that
/// follows from it, written once: the label rule (in both schema forms, with one message), how a label becomes a
/// tensor value, the objective, the class names and the prediction columns. Every supervised trainer (feature
/// vectors, images, text) uses one of the three instances.
/// </summary>
internal abstract class TargetKind
{
    public static readonly TargetKind Regression = new RegressionKind();
    public static readonly TargetKind Binary = new BinaryKind();
    public static readonly TargetKind Multiclass = new MulticlassKind();

    /// <summary>The kind of scoring head (and of model zip header).</summary>
    public abstract NetworkTask Task { get; }

    /// <summary>Element type of label tensors.</summary>
    public abstract ScalarType LabelTensorType { get; }

    /// <summary>What the label column must hold, for messages.</summary>
    protected abstract string ExpectedLabel { get; }

    /// <summary>Checks the label column and returns the number of network outputs.</summary>
    public int CheckLabel(DataViewSchema schema, string name, string role = "label")
    {
        var column = SchemaChecks.Find(schema, role, name);
        if (!Accepts(column.Type))
            throw SchemaChecks.Mismatch(role, name, ExpectedLabel, column.Type);
        return Outputs(column.Type);
    }

    /// <summary>The shape form of <see cref="CheckLabel(DataViewSchema, string, string)"/>; returns the label column.</summary>
    public SchemaShape.Column CheckLabel(SchemaShape schema, string name, string role = "label")
    {
        var column = SchemaChecks.Find(schema, role, name);
        if (!Accepts(column))
            throw SchemaChecks.Mismatch(role, name, ExpectedLabel, SchemaChecks.Describe(column));
        return column;
    }

    protected abstract bool Accepts(DataViewType type);

    protected abstract bool Accepts(SchemaShape.Column column);

    protected abstract int Outputs(DataViewType type);

    /// <summary>Reads a label as a float (a class index for classes); a key outside the key's range throws <see cref="InvalidLabelException"/>, which the reader reports with its row.</summary>
    public abstract LabelGetterFactory LabelGetter(DataViewSchema.Column label);

    /// <summary>Checks the objective settings against the label (e.g. one class weight per class).</summary>
    public virtual void CheckObjective(ObjectiveSettings settings, int outputs, string labelColumn)
    {
    }

    public abstract TrainingObjective CreateObjective(ObjectiveSettings settings);

    /// <summary>The label's key values as text (multiclass), else null.</summary>
    public virtual string[]? ClassNames(DataViewSchema.Column label) => null;

    /// <summary>The type of the label's key values, by the name <see cref="ClassValues"/> stores.</summary>
    public virtual string ClassValueType(DataViewSchema.Column label) => ClassValues.Text;

    /// <summary>The prediction columns in shape form (<paramref name="label"/> lends its key values to <c>PredictedLabel</c>).</summary>
    public abstract IEnumerable<SchemaShape.Column> OutputColumns(OutputColumnNames names, SchemaShape.Column label);

    private static SchemaShape.Column Scalar(string name, DataViewType type, bool isKey = false, SchemaShape? annotations = null)
        => MLNetInternals.Column(name, SchemaShape.Column.VectorKind.Scalar, type, isKey, annotations);

    private sealed class RegressionKind : TargetKind
    {
        public override NetworkTask Task => NetworkTask.Regression;
        public override ScalarType LabelTensorType => ScalarType.Float32;
        protected override string ExpectedLabel => "Single or Double";
        protected override bool Accepts(DataViewType type) => type == NumberDataViewType.Single || type == NumberDataViewType.Double;
        protected override bool Accepts(SchemaShape.Column column) => column.Kind == SchemaShape.Column.VectorKind.Scalar && Accepts(column.ItemType);
        protected override int Outputs(DataViewType type) => 1;

        public override LabelGetterFactory LabelGetter(DataViewSchema.Column label) => row =>
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

        public override TrainingObjective CreateObjective(ObjectiveSettings settings) => new RegressionObjective(settings.RegressionLoss);

        public override IEnumerable<SchemaShape.Column> OutputColumns(OutputColumnNames names, SchemaShape.Column label)
            => [Scalar(names.Score, NumberDataViewType.Single)];
    }

    private sealed class BinaryKind : TargetKind
    {
        public override NetworkTask Task => NetworkTask.BinaryClassification;
        public override ScalarType LabelTensorType => ScalarType.Float32;
        protected override string ExpectedLabel => "Boolean (load the column as Boolean, or map it with mlContext.Transforms.CustomMapping)";
        protected override bool Accepts(DataViewType type) => type == BooleanDataViewType.Instance;
        protected override bool Accepts(SchemaShape.Column column) => column.Kind == SchemaShape.Column.VectorKind.Scalar && Accepts(column.ItemType);
        protected override int Outputs(DataViewType type) => 1;

        public override LabelGetterFactory LabelGetter(DataViewSchema.Column label) => row =>
        {
            var get = row.GetGetter<bool>(label);
            bool value = false;
            return () => { get(ref value); return value ? 1f : 0f; };
        };

        public override TrainingObjective CreateObjective(ObjectiveSettings settings) => new BinaryObjective();

        public override IEnumerable<SchemaShape.Column> OutputColumns(OutputColumnNames names, SchemaShape.Column label) =>
        [
            Scalar(names.Score, NumberDataViewType.Single),
            Scalar(names.Probability, NumberDataViewType.Single),
            Scalar(names.PredictedLabel, BooleanDataViewType.Instance),
        ];
    }

    private sealed class MulticlassKind : TargetKind
    {
        public override NetworkTask Task => NetworkTask.MulticlassClassification;
        public override ScalarType LabelTensorType => ScalarType.Int64;
        protected override string ExpectedLabel => "a key type of UInt32 with at least 2 values (use mlContext.Transforms.Conversion.MapValueToKey)";

        protected override bool Accepts(DataViewType type)
            => type is KeyDataViewType key && key.RawType == typeof(uint) && key.Count >= 2 && key.Count <= int.MaxValue;

        protected override bool Accepts(SchemaShape.Column column)
            => column.Kind == SchemaShape.Column.VectorKind.Scalar && column.IsKey && column.ItemType.RawType == typeof(uint);

        protected override int Outputs(DataViewType type) => (int)((KeyDataViewType)type).Count;

        public override LabelGetterFactory LabelGetter(DataViewSchema.Column label) => row =>
        {
            var get = row.GetGetter<uint>(label);
            var count = ((KeyDataViewType)label.Type).Count;
            uint key = 0;
            return () =>
            {
                get(ref key);
                return key != 0 && key <= count ? key - 1 : throw OutsideKeyRange(key, count);
            };
        };

        /// <summary>Key 0 means "missing": a value outside the dictionary of the MapValueToKey that made the key.</summary>
        private static InvalidLabelException OutsideKeyRange(uint key, ulong count)
            => key == 0
                ? new InvalidLabelException("key 0 (the missing value)",
                    $"outside the key's range 1..{count}; expected one of the {count} classes. Key 0 is what MapValueToKey gives a value its dictionary does not hold — " +
                    "typically a class that appears only in the validation or test data, or an empty label. Fit MapValueToKey on data holding every class, " +
                    "or drop such rows (mlContext.Data.FilterRowsByMissingValues on the label column).")
                : new InvalidLabelException($"key {key}", $"outside the key's range 1..{count}; expected one of the {count} classes.");

        public override void CheckObjective(ObjectiveSettings settings, int outputs, string labelColumn)
        {
            if (settings.ClassWeights is { } weights && weights.Length != outputs)
                throw new ArgumentException($"ClassWeights has {weights.Length} values but label column '{labelColumn}' has {outputs} classes; give one weight per class.",
                    nameof(settings.ClassWeights));
        }

        public override TrainingObjective CreateObjective(ObjectiveSettings settings)
            => new MulticlassObjective(settings.ClassWeights is { } w ? torch.tensor(w) : null, settings.LabelSmoothing);

        public override string[]? ClassNames(DataViewSchema.Column label)
        {
            var keyValues = label.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues);
            if (keyValues is not { Type: VectorDataViewType vector })
                return null;
            var method = typeof(MulticlassKind).GetMethod(nameof(ReadKeyValues), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .MakeGenericMethod(vector.ItemType.RawType);
            return (string[])method.Invoke(null, [label])!;
        }

        private static string[] ReadKeyValues<T>(DataViewSchema.Column label)
        {
            VBuffer<T> values = default;
            label.GetKeyValues(ref values);
            return values.DenseValues().Select(v => ClassValues.ToText(v)).ToArray();
        }

        public override string ClassValueType(DataViewSchema.Column label)
            => label.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues) is { Type: VectorDataViewType vector }
                ? ClassValues.NameOf(vector.ItemType)
                : ClassValues.Text;

        public override IEnumerable<SchemaShape.Column> OutputColumns(OutputColumnNames names, SchemaShape.Column label) =>
        [
            MLNetInternals.Column(names.Score, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false),
            Scalar(names.PredictedLabel, NumberDataViewType.UInt32, isKey: true, label.Annotations),
        ];
    }
}

/// <summary>The task-specific settings of the objective, taken from the trainer's options.</summary>
/// <param name="RegressionLoss">Loss of regression tasks.</param>
/// <param name="ClassWeights">Per-class weights of multiclass tasks, or null.</param>
/// <param name="LabelSmoothing">Label smoothing of multiclass tasks.</param>
internal sealed record ObjectiveSettings(RegressionLoss RegressionLoss = RegressionLoss.MeanSquaredError, float[]? ClassWeights = null, double LabelSmoothing = 0);

using System;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions;

/// <summary>Copies the current row's feature vector into a span of floats (its length is the vector's size).</summary>
internal delegate void FeatureCopier(Span<float> destination);

/// <summary>
/// The one place that turns a feature column into floats, for training and for scoring alike. Accepted item
/// types: Single, Double, Byte (pixels), Int32, Int64, UInt32 and UInt32 keys (token ids); every value is
/// converted to Single exactly as C# does (ids below 2²⁴ stay exact).
/// </summary>
internal static class FeatureVectors
{
    /// <summary>How an accepted type is described in error messages.</summary>
    public const string AcceptedTypes = "a known-size vector of Single, Double, Byte, Int32, Int64, UInt32 or a UInt32 key";

    /// <summary>Whether <paramref name="itemType"/> is an accepted item type.</summary>
    public static bool IsAccepted(DataViewType itemType)
        => itemType == NumberDataViewType.Single || itemType == NumberDataViewType.Double || itemType == NumberDataViewType.Byte
           || itemType == NumberDataViewType.Int32 || itemType == NumberDataViewType.Int64 || itemType == NumberDataViewType.UInt32
           || itemType is KeyDataViewType { RawType: var raw } && raw == typeof(uint);

    /// <summary>A copier reading <paramref name="column"/> of <paramref name="row"/>; the caller checked the type.</summary>
    public static FeatureCopier Create(DataViewRow row, DataViewSchema.Column column)
    {
        var itemType = ((VectorDataViewType)column.Type).ItemType;
        if (itemType == NumberDataViewType.Single)
        {
            var get = row.GetGetter<VBuffer<float>>(column);
            var buffer = default(VBuffer<float>);
            return destination =>
            {
                get(ref buffer);
                CheckLength(column, buffer.Length, destination.Length);
                buffer.CopyTo(destination);
            };
        }
        return itemType.RawType switch
        {
            var t when t == typeof(double) => Converting<double>(row, column, v => (float)v),
            var t when t == typeof(byte) => Converting<byte>(row, column, v => v),
            var t when t == typeof(int) => Converting<int>(row, column, v => v),
            var t when t == typeof(long) => Converting<long>(row, column, v => v),
            _ => Converting<uint>(row, column, v => v),
        };
    }

    private static FeatureCopier Converting<T>(DataViewRow row, DataViewSchema.Column column, Func<T, float> convert)
    {
        var get = row.GetGetter<VBuffer<T>>(column);
        var buffer = default(VBuffer<T>);
        return destination =>
        {
            get(ref buffer);
            CheckLength(column, buffer.Length, destination.Length);
            if (buffer.IsDense)
            {
                var values = buffer.GetValues();
                for (var i = 0; i < values.Length; i++)
                    destination[i] = convert(values[i]);
                return;
            }
            destination.Clear();
            var indices = buffer.GetIndices();
            var sparse = buffer.GetValues();
            for (var i = 0; i < sparse.Length; i++)
                destination[indices[i]] = convert(sparse[i]);
        };
    }

    private static void CheckLength(DataViewSchema.Column column, int received, int expected)
    {
        if (received != expected)
            throw new InvalidOperationException($"Feature column '{column.Name}' produced a vector of {received} values; expected {expected}.");
    }
}

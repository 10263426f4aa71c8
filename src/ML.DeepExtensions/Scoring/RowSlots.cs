using System;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// One input column's values for the rows of a batch, read from a cursor into numbered slots and served back by a
/// getter for any slot. Slots are reused from batch to batch the way ML.NET getters reuse their destination
/// (vector buffers are refilled, disposable values are replaced by their getter); a vector is copied out to the
/// reader, so a reader can never write into a cached row.
/// </summary>
internal abstract class RowSlots
{
    private static readonly MethodInfo CreateValues = typeof(RowSlots).GetMethod(nameof(Values), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo CreateVectors = typeof(RowSlots).GetMethod(nameof(Vectors), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>Slots for <paramref name="column"/> of <paramref name="cursor"/>, which must have it active.</summary>
    public static RowSlots Create(DataViewRow cursor, DataViewSchema.Column column, int capacity)
    {
        var raw = column.Type.RawType;
        var method = raw.IsGenericType && raw.GetGenericTypeDefinition() == typeof(VBuffer<>)
            ? CreateVectors.MakeGenericMethod(raw.GetGenericArguments()[0])
            : CreateValues.MakeGenericMethod(raw);
        return (RowSlots)method.Invoke(null, [cursor, column, capacity])!;
    }

    /// <summary>Reads the cursor's current row into <paramref name="slot"/>.</summary>
    public abstract void Read(int slot);

    /// <summary>A <see cref="ValueGetter{TValue}"/> of the column's raw type serving the slot <paramref name="slot"/> returns.</summary>
    public abstract Delegate Getter(Func<int> slot);

    private static RowSlots Values<T>(DataViewRow cursor, DataViewSchema.Column column, int capacity)
        => new ValueSlots<T>(cursor.GetGetter<T>(column), capacity);

    private static RowSlots Vectors<T>(DataViewRow cursor, DataViewSchema.Column column, int capacity)
        => new VectorSlots<T>(cursor.GetGetter<VBuffer<T>>(column), capacity);

    private sealed class ValueSlots<T>(ValueGetter<T> get, int capacity) : RowSlots
    {
        private readonly T[] _values = new T[capacity];

        public override void Read(int slot) => get(ref _values[slot]);

        public override Delegate Getter(Func<int> slot) => (ValueGetter<T>)((ref T value) => value = _values[slot()]);
    }

    private sealed class VectorSlots<T>(ValueGetter<VBuffer<T>> get, int capacity) : RowSlots
    {
        private readonly VBuffer<T>[] _values = new VBuffer<T>[capacity];

        public override void Read(int slot) => get(ref _values[slot]);

        public override Delegate Getter(Func<int> slot) => (ValueGetter<VBuffer<T>>)((ref VBuffer<T> value) => _values[slot()].CopyTo(ref value));
    }
}

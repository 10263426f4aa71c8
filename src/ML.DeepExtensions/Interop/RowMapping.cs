using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace ML.DeepExtensions.Interop;

/// <summary>
/// ML.NET's row-mapping data view (<c>RowToRowMapperTransform</c>: parallel cursors, <c>PredictionEngine</c>) around a row
/// mapper, written once for every transformer of the packages that maps one row at a time (language model, token
/// classifier, speech, audio loading, the detector's row path).
/// </summary>
internal static class RowMapping
{
    /// <summary>The input schema with the columns <paramref name="create"/>'s mapper adds.</summary>
    public static DataViewSchema OutputSchema(DataViewSchema inputSchema, Func<DataViewSchema, IRowMapper> create)
        => RowToRowMapperTransform.GetOutputSchema(inputSchema, create(inputSchema));

    /// <summary>A row-to-row mapper over <paramref name="inputSchema"/>.</summary>
    public static IRowToRowMapper RowToRowMapper(IHostEnvironment env, DataViewSchema inputSchema, Func<DataViewSchema, IRowMapper> create)
        => new RowToRowMapperTransform(env, new EmptyDataView(env, inputSchema), create(inputSchema), create);

    /// <summary><paramref name="input"/> with the mapper's columns.</summary>
    public static IDataView Transform(IHostEnvironment env, IDataView input, Func<DataViewSchema, IRowMapper> create)
        => new RowToRowMapperTransform(env, input, create(input.Schema), create);

    /// <summary>
    /// <paramref name="compute"/>'s value for the current row of <paramref name="input"/>, computed once per cursor position
    /// however many getters read it; every time on rows that stay at position −1 (a <c>PredictionEngine</c>'s). The shared
    /// core of the row mappers whose outputs are costly (generation, token labels, transcripts, decoded audio, features).
    /// </summary>
    public static Func<T> OncePerPosition<T>(DataViewRow input, Func<T> compute)
    {
        var position = -1L;
        var value = default(T)!;
        return () =>
        {
            if (position != input.Position || position < 0)
            {
                value = compute();
                position = input.Position;
            }
            return value;
        };
    }
}

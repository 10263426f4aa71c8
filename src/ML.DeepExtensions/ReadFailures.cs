using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions;

/// <summary>
/// A failure upstream while reading rows (an unreadable image file, a value a transform cannot parse …) as one
/// <see cref="InvalidDataException"/> naming the failing row and its text columns (typically the file path), with the
/// original message — for training and scoring alike. ML.NET may compute rows ahead on worker threads, so the failing row
/// is found again by a serial re-read; the caller's row is used if that re-read does not fail.
/// </summary>
internal static class ReadFailures
{
    /// <summary>Whether <paramref name="ex"/> came from upstream rather than from our own checks or a cancellation.</summary>
    public static bool IsUpstream(Exception ex) => ex is not (InvalidDataException or OperationCanceledException);

    /// <param name="data">The data being read.</param>
    /// <param name="columns">The columns the failing read needed.</param>
    /// <param name="readRow">Makes, for a cursor, an action that reads those columns of the current row.</param>
    /// <param name="what">What was being read, e.g. <c>feature column 'Features'</c>.</param>
    /// <param name="rowHint">The row the caller was at.</param>
    /// <param name="ex">The failure.</param>
    public static InvalidDataException Describe(IDataView data, IEnumerable<DataViewSchema.Column> columns, Func<DataViewRowCursor, Action> readRow,
        string what, long rowHint, Exception ex)
    {
        var cause = ex;
        while (cause.InnerException is not null && cause.Message.Contains("worker encountered exception", StringComparison.Ordinal))
            cause = cause.InnerException;
        var (row, context) = Locate(data, columns, readRow) ?? (rowHint, "");
        return new InvalidDataException(
            $"Reading row {row} for {what} failed{(context.Length > 0 ? $" ({context})" : "")}: {cause.GetType().Name}: {cause.Message}", ex);
    }

    /// <summary>The first row that cannot be read, with its text columns (e.g. <c>ImagePath='a.png'</c>).</summary>
    private static (long Row, string Context)? Locate(IDataView data, IEnumerable<DataViewSchema.Column> columns, Func<DataViewRowCursor, Action> readRow)
    {
        try
        {
            var texts = data.Schema.Where(c => !c.IsHidden && c.Type is TextDataViewType).ToArray();
            using var cursor = data.GetRowCursorSet(texts.Concat(columns).Distinct().ToArray(), 1)[0];
            var read = readRow(cursor);
            var getters = texts.Select(c => (c.Name, Get: cursor.GetGetter<ReadOnlyMemory<char>>(c))).ToArray();
            for (long row = 0; ; row++)
            {
                try
                {
                    if (!cursor.MoveNext())
                        return null;
                    read();
                }
                catch (Exception)
                {
                    return (row, string.Join(", ", getters.Select(g =>
                    {
                        var value = default(ReadOnlyMemory<char>);
                        g.Get(ref value);
                        var text = value.ToString();
                        return $"{g.Name}='{(text.Length > 200 ? text[..200] + "…" : text)}'";
                    })));
                }
            }
        }
        catch (Exception)
        {
            return null;
        }
    }
}

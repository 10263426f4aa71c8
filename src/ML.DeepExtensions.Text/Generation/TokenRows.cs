using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Text.Tokenization;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Text.Generation;

/// <summary>Reads token ids: from a token-id column, or by tokenizing a text column.</summary>
internal static class TokenRows
{
    /// <summary>Rows of a known-size Int32 vector column (right-padded ids); rows with no token are skipped.</summary>
    public static List<int[]> FromTokenColumn(IDataView data, string column, int length, int paddingId, Func<long, bool>? includeRow = null)
    {
        var col = data.Schema[column];
        var rows = new List<int[]>();
        using var cursor = data.GetRowCursor(new[] { col });
        var get = cursor.GetGetter<VBuffer<int>>(col);
        var buffer = default(VBuffer<int>);
        long row = -1;
        while (cursor.MoveNext())
        {
            row++;
            if (includeRow is not null && !includeRow(row))
                continue;
            get(ref buffer);
            var ids = new int[length];
            buffer.CopyTo(ids);
            if (ids[0] != paddingId)
                rows.Add(ids);
        }
        return rows;
    }

    /// <summary>Tokenized rows of a text column (the tokenizer's length policy); rows with no token are skipped.</summary>
    public static List<int[]> FromTextColumn(IDataView data, string column, TokenizingTransformer tokenizer)
    {
        TextColumn.Check(data.Schema, column);
        var col = data.Schema[column];
        var rows = new List<int[]>();
        using var cursor = data.GetRowCursor(new[] { col });
        var get = cursor.GetGetter<ReadOnlyMemory<char>>(col);
        var text = default(ReadOnlyMemory<char>);
        while (cursor.MoveNext())
        {
            get(ref text);
            var ids = new int[tokenizer.MaxLength];
            if (tokenizer.Tokenizer.Fill(text.Span, ids, tokenizer.Truncation) > 0)
                rows.Add(ids);
        }
        return rows;
    }

    /// <summary>A row's tokens: its ids before the first padding id (rows may be padded to the context length).</summary>
    public static int Tokens(int[] ids, int paddingId)
    {
        var padding = Array.IndexOf(ids, paddingId);
        return padding < 0 ? ids.Length : padding;
    }

    /// <summary>
    /// Inputs (rows, width) as floats and labels (rows, width) as Int64 for right-padded id rows, where width is the
    /// longest row's token count + 1 (its end-of-text target), at most <paramref name="maxLength"/>.
    /// </summary>
    public static (TorchSharp.torch.Tensor Features, TorchSharp.torch.Tensor Labels) Tensors(IReadOnlyList<int[]> rows, int maxLength, int paddingId)
    {
        var width = 1;
        foreach (var ids in rows)
        {
            var tokens = Array.IndexOf(ids, paddingId);
            width = Math.Max(width, tokens < 0 ? maxLength : Math.Min(maxLength, tokens + 1));
        }
        var features = new float[rows.Count * width];
        var labels = new long[rows.Count * width];
        for (var i = 0; i < rows.Count; i++)
        {
            Shift(rows[i], features.AsSpan(i * width, width), paddingId);
            for (var j = 0; j < width; j++)
                labels[i * width + j] = rows[i][j];
        }
        return (HostCopy.ToTensor<float>(features, [rows.Count, width]), HostCopy.ToTensor(labels.AsSpan(), [rows.Count, width]));
    }

    /// <summary>Model inputs for right-padded id rows: a start position (the padding id), then the ids shifted right by one.</summary>
    public static void Shift(int[] ids, Span<float> destination, int paddingId)
    {
        destination[0] = paddingId;
        for (var i = 1; i < destination.Length; i++)
            destination[i] = ids[i - 1];
    }
}

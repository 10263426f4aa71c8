using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.Text.Tokenization;

/// <summary>
/// The data a <see cref="TokenizingTransformer"/> produces: ML.NET's own row-mapping view (batched cursors, cursor sets)
/// that also says which tokenizer made it. An estimator appended after a tokenizer in a pipeline (the language model,
/// which needs the vocabulary to generate text and saves it with the model) finds the tokenizer by walking from its
/// input back through <see cref="IDataTransform.Source"/> — an explicit hand-over, no table on the side.
/// </summary>
internal sealed class TokenizedDataView : IDataTransform
{
    private readonly IDataView _view;

    public TokenizedDataView(IDataView view, IDataView source, TokenizingTransformer tokenizer)
    {
        _view = view;
        Source = source;
        Tokenizer = tokenizer;
    }

    /// <summary>The tokenizer that produced the token columns of this view.</summary>
    public TokenizingTransformer Tokenizer { get; }

    /// <inheritdoc />
    public IDataView Source { get; }

    /// <inheritdoc />
    public bool CanShuffle => _view.CanShuffle;

    /// <inheritdoc />
    public DataViewSchema Schema => _view.Schema;

    /// <inheritdoc />
    public long? GetRowCount() => _view.GetRowCount();

    /// <inheritdoc />
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => _view.GetRowCursor(columnsNeeded, rand);

    /// <inheritdoc />
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => _view.GetRowCursorSet(columnsNeeded, n, rand);

    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)_view).Save(ctx);

    /// <summary>The tokenizer whose output column is <paramref name="tokenColumn"/> in <paramref name="view"/> or one of the views it was made from.</summary>
    public static TokenizingTransformer? FindProducer(IDataView view, string tokenColumn)
    {
        IDataView? current = view;
        for (var depth = 0; current is not null && depth < 256; depth++)
        {
            if (current is TokenizedDataView tokenized && tokenized.Tokenizer.OutputColumnName == tokenColumn)
                return tokenized.Tokenizer;
            current = (current as IDataTransform)?.Source;
        }
        return null;
    }
}

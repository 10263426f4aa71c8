using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Text.Generation;
using ML.DeepExtensions.Text.Persistence;
using ML.DeepExtensions.Text.Tokenization;

namespace ML.DeepExtensions.Text.Interop;

/// <summary>ML.NET's row-mapping data view around <see cref="ContinuationRowMapper"/> (batched cursors, PredictionEngine).</summary>
internal static class LanguageModelInterop
{
    public static DataViewSchema OutputSchema(LanguageModelTransformer transformer, DataViewSchema inputSchema)
        => RowMapping.OutputSchema(inputSchema, schema => new ContinuationRowMapper(transformer, schema));

    public static IRowToRowMapper RowToRowMapper(LanguageModelTransformer transformer, DataViewSchema inputSchema)
        => RowMapping.RowToRowMapper(transformer.Environment, inputSchema, schema => new ContinuationRowMapper(transformer, schema));

    public static IDataView Transform(LanguageModelTransformer transformer, IDataView input)
        => RowMapping.Transform(transformer.Environment, input, schema => new ContinuationRowMapper(transformer, schema));
}

/// <summary>Generates the continuation of the current row's prompt once per cursor position.</summary>
internal sealed class ContinuationRowMapper : IRowMapper
{
    private readonly LanguageModelTransformer _parent;
    private readonly int _promptIndex;

    public ContinuationRowMapper(LanguageModelTransformer parent, DataViewSchema inputSchema)
    {
        TextColumn.Check(inputSchema, parent.PromptColumnName);
        _parent = parent;
        _promptIndex = inputSchema[parent.PromptColumnName].Index;
    }

    public DataViewSchema.DetachedColumn[] GetOutputColumns() => [new(_parent.OutputColumnName, TextDataViewType.Instance)];

    public Func<int, bool> GetDependencies(Func<int, bool> activeOutput)
    {
        var active = activeOutput(0);
        return column => active && column == _promptIndex;
    }

    public Delegate[] CreateGetters(DataViewRow input, Func<int, bool> activeOutput, out Action disposer)
    {
        disposer = () => { };
        if (!activeOutput(0))
            return new Delegate[1];
        var prompt = input.GetGetter<ReadOnlyMemory<char>>(input.Schema[_promptIndex]);
        var text = default(ReadOnlyMemory<char>);
        long position = -1;
        var continuation = ReadOnlyMemory<char>.Empty;
        ValueGetter<ReadOnlyMemory<char>> getter = (ref ReadOnlyMemory<char> value) =>
        {
            // PredictionEngine rows stay at position -1: generate every time there.
            if (position != input.Position || position < 0)
            {
                prompt(ref text);
                continuation = _parent.Generate(text.ToString()).AsMemory();
                position = input.Position;
            }
            value = continuation;
        };
        return [getter];
    }

    public ITransformer GetTransformer() => _parent;

    void ICanSaveModel.Save(ModelSaveContext ctx) => LanguageModelFormat.Save(ctx, _parent);
}

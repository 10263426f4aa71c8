using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Scoring;
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

    /// <summary>
    /// The input with the continuation column: the prompts of a batch of rows (<see cref="LanguageModelTransformer.GenerationBatchSize"/>)
    /// are generated together by <see cref="LanguageModelTransformer.Generate(IReadOnlyList{string}, GenerationOptions?)"/>, which
    /// gives each row what it gives alone (per-row sampling generators), so the text equals the one-row path's.
    /// </summary>
    public static IDataView Transform(LanguageModelTransformer transformer, IDataView input)
    {
        TextColumn.Check(input.Schema, transformer.PromptColumnName);
        var prompt = transformer.PromptColumnName;
        return new BatchedDataView(new ColumnBatchScorer<string, string, ReadOnlyMemory<char>>(LanguageModelTransformer.GenerationBatchSize, prompt,
            $"prompt column '{prompt}'", transformer.OutputColumnName, schema => OutputSchema(transformer, schema),
            row => TextColumn.Reader(row, row.Schema[prompt]),
            (prompts, _) => transformer.Generate(prompts),
            (string continuation, ref ReadOnlyMemory<char> value) => value = continuation.AsMemory()), input);
    }
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
        var prompt = TextColumn.Reader(input, input.Schema[_promptIndex]);
        var continuation = RowMapping.OncePerPosition(input, () => _parent.Generate(prompt()).AsMemory());
        ValueGetter<ReadOnlyMemory<char>> getter = (ref ReadOnlyMemory<char> value) => value = continuation();
        return [getter];
    }

    public ITransformer GetTransformer() => _parent;

    void ICanSaveModel.Save(ModelSaveContext ctx) => LanguageModelFormat.Save(ctx, _parent);
}

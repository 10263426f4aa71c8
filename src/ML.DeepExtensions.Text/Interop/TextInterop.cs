using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Persistence;
using ML.DeepExtensions.Text.Persistence;
using ML.DeepExtensions.Text.Tokenization;

namespace ML.DeepExtensions.Text.Interop;

/// <summary>
/// Every use of ML.NET internals by the text package outside (de)serialization: the environment behind a
/// catalog, and ML.NET's own row-mapping data view (<c>RowToRowMapperTransform</c>) around our
/// <see cref="TokenizerRowMapper"/>, which gives batched <c>Transform</c>, parallel cursors and
/// <c>PredictionEngine</c> support.
/// </summary>
internal static class TextInterop
{
    /// <summary>The environment behind <c>mlContext.Transforms.Text</c>.</summary>
    public static IHostEnvironment Environment(TransformsCatalog.TextTransforms catalog)
    {
        MLNetInternals.SelfCheck();
        if (typeof(TextInterop).Assembly.GetCustomAttributes(typeof(LoadableClassAttribute), false).Length == 0)
            throw new InvalidOperationException(
                "ML.DeepExtensions.Text cannot register its model loaders: the runtime dropped its LoadableClass attributes " +
                "(IgnoresAccessChecksTo is not honoured). Saved tokenizers could not be loaded; use .NET 8 or later on CoreCLR.");
        return CatalogUtils.GetEnvironment(catalog);
    }

    public static DataViewSchema OutputSchema(TokenizingTransformer transformer, DataViewSchema inputSchema)
        => RowToRowMapperTransform.GetOutputSchema(inputSchema, new TokenizerRowMapper(transformer, inputSchema));

    public static IRowToRowMapper RowToRowMapper(TokenizingTransformer transformer, DataViewSchema inputSchema)
    {
        var env = transformer.Environment;
        return new RowToRowMapperTransform(env, new EmptyDataView(env, inputSchema), new TokenizerRowMapper(transformer, inputSchema),
            schema => new TokenizerRowMapper(transformer, schema));
    }

    public static IDataView Transform(TokenizingTransformer transformer, IDataView input)
    {
        var output = new RowToRowMapperTransform(transformer.Environment, input, new TokenizerRowMapper(transformer, input.Schema),
            schema => new TokenizerRowMapper(transformer, schema));
        // The view names its tokenizer, so a language model appended after it in a pipeline finds it (see TokenizedDataView).
        return new TokenizedDataView(output, input, transformer);
    }
}

/// <summary>
/// Tokenizes the text of each row once (per cursor and position) and serves the ids, length and mask getters
/// from that one result.
/// </summary>
internal sealed class TokenizerRowMapper : IRowMapper
{
    private readonly TokenizingTransformer _parent;
    private readonly DataViewSchema.DetachedColumn[] _outputs;
    private readonly int _inputIndex;

    public TokenizerRowMapper(TokenizingTransformer parent, DataViewSchema inputSchema)
    {
        parent.CheckInput(inputSchema);
        _parent = parent;
        _inputIndex = inputSchema[parent.InputColumnName].Index;
        var settings = parent.Settings;
        var outputs = new List<DataViewSchema.DetachedColumn>
        {
            new(settings.OutputColumnName, new VectorDataViewType(NumberDataViewType.Int32, settings.MaxLength)),
        };
        if (settings.LengthColumnName is { } length)
            outputs.Add(new(length, NumberDataViewType.Int32));
        if (settings.MaskColumnName is { } mask)
            outputs.Add(new(mask, new VectorDataViewType(NumberDataViewType.Single, settings.MaxLength)));
        _outputs = outputs.ToArray();
    }

    public DataViewSchema.DetachedColumn[] GetOutputColumns() => _outputs;

    public Func<int, bool> GetDependencies(Func<int, bool> activeOutput)
    {
        var any = false;
        for (var i = 0; i < _outputs.Length; i++)
            any |= activeOutput(i);
        return column => any && column == _inputIndex;
    }

    public Delegate[] CreateGetters(DataViewRow input, Func<int, bool> activeOutput, out Action disposer)
    {
        disposer = () => { };
        var getters = new Delegate[_outputs.Length];
        // With no output active the text column is not active either (GetDependencies): do not ask for its getter.
        if (!Enumerable.Range(0, _outputs.Length).Any(activeOutput))
            return getters;
        var row = new RowTokens(_parent, input, _inputIndex);
        for (var i = 0; i < _outputs.Length; i++)
        {
            if (!activeOutput(i))
                continue;
            var name = _outputs[i].Name;
            if (name == _parent.OutputColumnName)
                getters[i] = (ValueGetter<VBuffer<int>>)row.GetIds;
            else if (name == _parent.LengthColumnName)
                getters[i] = (ValueGetter<int>)row.GetLength;
            else
                getters[i] = (ValueGetter<VBuffer<float>>)row.GetMask;
        }
        return getters;
    }

    public ITransformer GetTransformer() => _parent;

    void ICanSaveModel.Save(ModelSaveContext ctx) => TokenizerFormat.Save(ctx, _parent);

    /// <summary>The tokens of the current row of one cursor.</summary>
    private sealed class RowTokens
    {
        private readonly TokenizingTransformer _parent;
        private readonly DataViewRow _input;
        private readonly ValueGetter<ReadOnlyMemory<char>> _text;
        private readonly int[] _ids;
        private ReadOnlyMemory<char> _buffer;
        private int _length;
        private long _position = -1;

        public RowTokens(TokenizingTransformer parent, DataViewRow input, int inputIndex)
        {
            _parent = parent;
            _input = input;
            _text = input.GetGetter<ReadOnlyMemory<char>>(input.Schema[inputIndex]);
            _ids = new int[parent.MaxLength];
        }

        private void Update()
        {
            // PredictionEngine rows stay at position -1: tokenize every time there.
            if (_position == _input.Position && _position >= 0)
                return;
            _text(ref _buffer);
            _length = _parent.Tokenizer.Fill(_buffer.Span, _ids, _parent.Truncation);
            _position = _input.Position;
        }

        public void GetIds(ref VBuffer<int> value)
        {
            Update();
            var editor = VBufferEditor.Create(ref value, _ids.Length);
            _ids.CopyTo(editor.Values);
            value = editor.Commit();
        }

        public void GetLength(ref int value)
        {
            Update();
            value = _length;
        }

        public void GetMask(ref VBuffer<float> value)
        {
            Update();
            var editor = VBufferEditor.Create(ref value, _ids.Length);
            editor.Values[.._length].Fill(1f);
            editor.Values[_length..].Fill(0f);
            value = editor.Commit();
        }
    }
}

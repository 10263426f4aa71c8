using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ML.DeepExtensions.TestSupport.Contract;

/// <summary>
/// A <c>PredictionEngine</c> for any estimator: its input and output classes are emitted at run time from the schemas, one
/// public field per column of the column's raw type, named and typed as the column through a <see cref="SchemaDefinition"/>.
/// Inputs are the columns of a case's raw data (numbers, text, vectors: what a binary data file holds), so the model given
/// here is the case's preparation followed by the fitted transformer, as an application would chain them.
/// </summary>
internal sealed class DynamicPredictionEngine : IDisposable
{
    private static readonly ModuleBuilder Module = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("ContractRows"), AssemblyBuilderAccess.Run)
        .DefineDynamicModule("ContractRows");
    private static int _types;

    private readonly DataViewSchema.Column[] _inputs;
    private readonly string[] _outputs;
    private readonly Type _inputType;
    private readonly Type _outputType;
    private readonly IDisposable _engine;
    private readonly MethodInfo _predict;

    /// <summary>An engine on <paramref name="transformer"/> reading every visible column of <paramref name="inputSchema"/> and returning <paramref name="outputs"/>.</summary>
    public DynamicPredictionEngine(MLContext mlContext, ITransformer transformer, DataViewSchema inputSchema, IReadOnlyList<string> outputs)
    {
        _inputs = inputSchema.Where(c => !c.IsHidden).ToArray();
        _outputs = outputs.ToArray();
        var outputSchema = transformer.GetOutputSchema(inputSchema);
        (_inputType, var inputDefinition) = RowType(_inputs);
        (_outputType, var outputDefinition) = RowType(_outputs.Select(n => outputSchema[n]).ToArray());
        var create = typeof(ModelOperationsCatalog).GetMethods()
            .Single(m => m.Name == nameof(ModelOperationsCatalog.CreatePredictionEngine) && m.GetParameters() is { Length: 4 } p && p[1].ParameterType == typeof(bool))
            .MakeGenericMethod(_inputType, _outputType);
        _engine = (IDisposable)create.Invoke(mlContext.Model, BindingFlags.DoNotWrapExceptions, null, [transformer, false, inputDefinition, outputDefinition], null)!;
        _predict = _engine.GetType().GetMethod("Predict", [_inputType])!;
    }

    /// <summary>Predicts the first <paramref name="rows"/> rows of <paramref name="data"/> one by one; the cells of every output column.</summary>
    public Dictionary<string, List<object?>> PredictEach(IDataView data, int rows)
    {
        var inputs = _inputs.Select(c => ContractValues.Raw(data, data.Schema[c.Name], rows)).ToArray();
        var count = inputs.Length == 0 ? 0 : inputs.Min(v => v.Count);
        var result = _outputs.ToDictionary(n => n, _ => new List<object?>());
        for (var row = 0; row < count; row++)
        {
            var example = Activator.CreateInstance(_inputType)!;
            for (var i = 0; i < _inputs.Length; i++)
                _inputType.GetField(Field(i))!.SetValue(example, inputs[i][row]);
            var prediction = _predict.Invoke(_engine, BindingFlags.DoNotWrapExceptions, null, [example], null)!;
            for (var i = 0; i < _outputs.Length; i++)
                result[_outputs[i]].Add(ContractValues.Cell(_outputType.GetField(Field(i))!.GetValue(prediction)));
        }
        return result;
    }

    public void Dispose() => _engine.Dispose();

    private static string Field(int index) => $"F{index}";

    private static (Type Type, SchemaDefinition Definition) RowType(IReadOnlyList<DataViewSchema.Column> columns)
    {
        Type type;
        lock (Module)
        {
            var builder = Module.DefineType($"Row{++_types}", TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class);
            for (var i = 0; i < columns.Count; i++)
                builder.DefineField(Field(i), columns[i].Type.RawType, FieldAttributes.Public);
            builder.DefineDefaultConstructor(MethodAttributes.Public);
            type = builder.CreateType();
        }
        var definition = SchemaDefinition.Create(type, SchemaDefinition.Direction.Both);
        for (var i = 0; i < columns.Count; i++)
        {
            var column = definition.Single(c => c.MemberName == Field(i));
            column.ColumnName = columns[i].Name;
            column.ColumnType = columns[i].Type;
        }
        return (type, definition);
    }
}

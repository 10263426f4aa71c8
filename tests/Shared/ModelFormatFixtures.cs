using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace ML.DeepExtensions.TestSupport;

/// <summary>
/// The model zips of tests/fixtures/model-format-v1 (saved by the code of format version 1, see the README there) and
/// their expected.json: the inputs each was checked with and the outputs it gave, compared here bit for bit.
/// </summary>
internal static class ModelFormatFixtures
{
    public const string Folder = "tests/fixtures/model-format-v1";

    /// <summary>The fixture folder, found above the test binaries like the data/ files.</summary>
    public static string FolderPath { get; } = FindFolder();

    private static readonly Lazy<JsonDocument> Expected = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(FolderPath, "expected.json"))));

    /// <summary>Path of a fixture's zip.</summary>
    public static string Zip(string name) => Path.Combine(FolderPath, Fixture(name).GetProperty("zip").GetString()!);

    /// <summary>A fixture's entry of expected.json.</summary>
    public static JsonElement Fixture(string name)
        => Expected.Value.RootElement.GetProperty("fixtures").TryGetProperty(name, out var fixture)
            ? fixture
            : throw new KeyNotFoundException($"'{name}' is not in {Folder}/expected.json.");

    /// <summary>Names of the fixtures that expected.json assigns to <paramref name="testProject"/>.</summary>
    public static string[] NamesFor(string testProject)
        => Expected.Value.RootElement.GetProperty("fixtures").EnumerateObject()
            .Where(f => f.Value.GetProperty("testProject").GetString() == testProject)
            .Select(f => f.Name)
            .OrderBy(n => n, StringComparer.Ordinal)
            .ToArray();

    /// <summary>The fixture's inputs as a data view: one Vector&lt;Single&gt; column (numbers, or bytes / 255) or one String column.</summary>
    public static IDataView Inputs(MLContext mlContext, string name)
    {
        var columns = Fixture(name).GetProperty("inputs").EnumerateObject().ToArray();
        Assert.True(columns.Length == 1, $"{name}: one input column expected, found {columns.Length}");
        var column = columns[0];
        var type = column.Value.GetProperty("type").GetString();
        var values = column.Value.GetProperty("values").EnumerateArray().ToArray();
        switch (type)
        {
            case "Vector<Single>":
                var size = column.Value.GetProperty("size").GetInt32();
                var bytes = column.Value.TryGetProperty("encoding", out var encoding) && encoding.GetString() == "bytes/255";
                var rows = values.Select(v => new VectorInput
                {
                    Values = bytes ? Convert.FromBase64String(v.GetString()!).Select(b => b / 255f).ToArray() : v.EnumerateArray().Select(Single).ToArray(),
                }).ToArray();
                Assert.All(rows, r => Assert.Equal(size, r.Values.Length));
                var schema = SchemaDefinition.Create(typeof(VectorInput));
                schema[nameof(VectorInput.Values)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
                schema[nameof(VectorInput.Values)].ColumnName = column.Name;
                return mlContext.Data.LoadFromEnumerable(rows, schema);
            case "String":
                var texts = SchemaDefinition.Create(typeof(TextInput));
                texts[nameof(TextInput.Value)].ColumnName = column.Name;
                return mlContext.Data.LoadFromEnumerable(values.Select(v => new TextInput { Value = v.GetString()! }).ToArray(), texts);
            default:
                throw new NotSupportedException($"{name}: input column '{column.Name}' of type {type} is built by the test itself.");
        }
    }

    /// <summary>Asserts that every output column recorded for the fixture has the same type, annotations and values — floats bit for bit.</summary>
    public static void AssertOutputs(string name, IDataView scored, float tolerance = 0)
    {
        foreach (var expected in Fixture(name).GetProperty("outputs").EnumerateObject())
        {
            var where = $"{name}, column '{expected.Name}'";
            var column = scored.Schema.GetColumnOrNull(expected.Name);
            Assert.True(column.HasValue, $"{where}: missing from the output");
            var type = expected.Value.GetProperty("type").GetString();
            var values = expected.Value.GetProperty("values").EnumerateArray().ToArray();
            switch (type)
            {
                case "Single":
                    Assert.Equal(NumberDataViewType.Single, column.Value.Type);
                    AssertBits(where, values.Select(Single).ToArray(), scored.GetColumn<float>(column.Value).ToArray(), tolerance);
                    break;
                case "Boolean":
                    Assert.Equal(BooleanDataViewType.Instance, column.Value.Type);
                    Assert.Equal(values.Select(v => v.GetBoolean()).ToArray(), scored.GetColumn<bool>(column.Value).ToArray());
                    break;
                case "String":
                    Assert.Equal(TextDataViewType.Instance, column.Value.Type);
                    Assert.Equal(values.Select(v => v.GetString()).ToArray(), scored.GetColumn<string>(column.Value).ToArray());
                    break;
                case "Key<UInt32>":
                    var key = Assert.IsType<KeyDataViewType>(column.Value.Type);
                    Assert.Equal(typeof(uint), key.RawType);
                    Assert.Equal(expected.Value.GetProperty("count").GetUInt64(), key.Count);
                    Assert.Equal(values.Select(v => v.GetUInt32()).ToArray(), scored.GetColumn<uint>(column.Value).ToArray());
                    if (expected.Value.TryGetProperty("keyValues", out var keyValues))
                    {
                        var actual = default(VBuffer<ReadOnlyMemory<char>>);
                        column.Value.GetKeyValues(ref actual);
                        Assert.Equal(Strings(keyValues), actual.DenseValues().Select(v => v.ToString()).ToArray());
                    }
                    break;
                case "Vector<Single>":
                    var vector = Assert.IsType<VectorDataViewType>(column.Value.Type);
                    Assert.Equal(NumberDataViewType.Single, vector.ItemType);
                    Assert.Equal(expected.Value.GetProperty("size").GetInt32(), vector.Size);
                    var rows = scored.GetColumn<VBuffer<float>>(column.Value).Select(v => v.DenseValues().ToArray()).ToArray();
                    Assert.Equal(values.Length, rows.Length);
                    for (var row = 0; row < rows.Length; row++)
                        AssertBits($"{where}, row {row}", values[row].EnumerateArray().Select(Single).ToArray(), rows[row], tolerance);
                    if (expected.Value.TryGetProperty("slotNames", out var slotNames))
                    {
                        var actual = default(VBuffer<ReadOnlyMemory<char>>);
                        column.Value.GetSlotNames(ref actual);
                        Assert.Equal(Strings(slotNames), actual.DenseValues().Select(v => v.ToString()).ToArray());
                    }
                    break;
                case "Vector<Int32>":
                    var ids = Assert.IsType<VectorDataViewType>(column.Value.Type);
                    Assert.Equal(NumberDataViewType.Int32, ids.ItemType);
                    Assert.Equal(expected.Value.GetProperty("size").GetInt32(), ids.Size);
                    Assert.Equal(values.Select(v => v.EnumerateArray().Select(i => i.GetInt32()).ToArray()).ToArray(),
                        scored.GetColumn<VBuffer<int>>(column.Value).Select(v => v.DenseValues().ToArray()).ToArray());
                    break;
                default:
                    throw new NotSupportedException($"{where}: type {type}");
            }
        }
    }

    /// <summary>Asserts the loaded model is the kind of transformer (or chain of transformers) the fixture was saved as.</summary>
    public static void AssertLoadedType(string name, ITransformer loaded)
    {
        var actual = loaded is IEnumerable<ITransformer> chain && loaded.GetType().Name == "TransformerChain`1"
            ? "TransformerChain[" + string.Join(", ", chain.Select(t => t.GetType().Name)) + "]"
            : loaded.GetType().Name;
        Assert.Equal(Fixture(name).GetProperty("loadedType").GetString(), actual);
    }

    /// <summary>Floats of expected.json are the shortest text that parses back to the same Single.</summary>
    public static float Single(JsonElement number) => float.Parse(number.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture);

    public static string[] Strings(JsonElement array) => array.EnumerateArray().Select(v => v.GetString()!).ToArray();

    /// <summary>
    /// Whether this CPU is of the kind that recorded the outputs (an Intel CPU with AVX-512, see the fixtures' README). libtorch's
    /// bundled MKL and oneDNN choose their matrix-product and convolution kernels by CPU vendor and instruction set, and those
    /// kernels round differently in the last bits: outputs are bit for bit only on the recording kind of CPU.
    /// </summary>
    public static bool RecordingCpuKind { get; } = ReadRecordingCpuKind();

    /// <summary>
    /// On another kind of CPU a recorded output may move by float rounding: |Δ| ≤ this × |expected| + <see cref="OtherCpuFloor"/>.
    /// Measured on an AMD EPYC (Zen 2, AVX2): at most 2 ULP on logits and regression scores, 1.9·10⁻⁶ relative on a softmax
    /// probability of 8·10⁻⁵. A wrong weight, layer or preprocessing step moves outputs by orders of magnitude more.
    /// </summary>
    public const float OtherCpuRelativeTolerance = 1e-5f;

    /// <summary>The absolute floor of <see cref="OtherCpuRelativeTolerance"/>, for outputs near 0.</summary>
    public const float OtherCpuFloor = 1e-7f;

    /// <summary>
    /// Asserts equal bit patterns (or, with a <paramref name="tolerance"/>, values that close), naming the first slot that differs.
    /// Off the recording kind of CPU (<see cref="RecordingCpuKind"/>) values may also differ by <see cref="OtherCpuRelativeTolerance"/>.
    /// </summary>
    public static void AssertBits(string where, float[] expected, float[] actual, float tolerance = 0)
    {
        Assert.True(expected.Length == actual.Length, $"{where}: {actual.Length} values, expected {expected.Length}");
        for (var i = 0; i < expected.Length; i++)
        {
            var exact = BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]);
            var distance = Math.Abs(expected[i] - actual[i]);
            var close = (tolerance > 0 && distance <= tolerance)
                        || (!RecordingCpuKind && distance <= OtherCpuRelativeTolerance * Math.Abs(expected[i]) + OtherCpuFloor);
            if (!exact && !close)
            {
                Assert.Fail($"{where}: value {i} is {actual[i].ToString("R", CultureInfo.InvariantCulture)} (0x{BitConverter.SingleToInt32Bits(actual[i]):X8}), "
                    + $"expected {expected[i].ToString("R", CultureInfo.InvariantCulture)} (0x{BitConverter.SingleToInt32Bits(expected[i]):X8})"
                    + (RecordingCpuKind ? " (bit for bit: this CPU is of the recording kind)" : $" (within {OtherCpuRelativeTolerance:G2}·|expected| + {OtherCpuFloor:G2} on this CPU, not of the recording kind)"));
            }
        }
    }

    private static bool ReadRecordingCpuKind()
    {
        try
        {
            var cpu = File.ReadAllText("/proc/cpuinfo");
            return cpu.Contains("GenuineIntel", StringComparison.Ordinal) && cpu.Contains(" avx512f", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, Folder);
            if (File.Exists(Path.Combine(candidate, "expected.json")))
                return candidate;
        }
        throw new DirectoryNotFoundException($"'{Folder}/expected.json' not found above {AppContext.BaseDirectory}.");
    }

    private sealed class VectorInput
    {
        public float[] Values { get; set; } = [];
    }

    private sealed class TextInput
    {
        public string Value { get; set; } = "";
    }
}

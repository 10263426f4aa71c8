using System;
using System.Collections.Generic;
using System.Linq;

namespace ML.DeepExtensions.Onnx;

/// <summary>
/// A named attribute of an ONNX node (<c>kernel_shape</c>, <c>epsilon</c>, …), given to
/// <see cref="OnnxLoweringContext.Node(string, IReadOnlyList{string}, OnnxAttribute[])"/>. Create one with the factory
/// method of its type: <see cref="Int"/>, <see cref="Ints"/>, <see cref="Float"/>, <see cref="Floats"/> or <see cref="String"/>.
/// </summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(string name, OnnxAttributeKind kind, long integer = 0, float real = 0, long[]? integers = null, float[]? reals = null, string? text = null)
    {
        Name = Guard.NotEmpty(name);
        Kind = kind;
        IntValue = integer;
        FloatValue = real;
        IntValues = integers ?? [];
        FloatValues = reals ?? [];
        StringValue = text ?? "";
    }

    /// <summary>The attribute name, as the operator's specification spells it (e.g. <c>kernel_shape</c>).</summary>
    public string Name { get; }

    /// <summary>Which of the value properties holds the value.</summary>
    public OnnxAttributeKind Kind { get; }

    /// <summary>The value of an <see cref="OnnxAttributeKind.Int"/> attribute.</summary>
    public long IntValue { get; }

    /// <summary>The value of a <see cref="OnnxAttributeKind.Float"/> attribute.</summary>
    public float FloatValue { get; }

    /// <summary>The values of an <see cref="OnnxAttributeKind.Ints"/> attribute.</summary>
    public IReadOnlyList<long> IntValues { get; }

    /// <summary>The values of a <see cref="OnnxAttributeKind.Floats"/> attribute.</summary>
    public IReadOnlyList<float> FloatValues { get; }

    /// <summary>The value of a <see cref="OnnxAttributeKind.String"/> attribute.</summary>
    public string StringValue { get; }

    /// <summary>An integer attribute.</summary>
    public static OnnxAttribute Int(string name, long value) => new(name, OnnxAttributeKind.Int, integer: value);

    /// <summary>A list-of-integers attribute (e.g. <c>pads</c>).</summary>
    public static OnnxAttribute Ints(string name, params long[] values) => new(name, OnnxAttributeKind.Ints, integers: Guard.NotNull(values).ToArray());

    /// <summary>A 32-bit float attribute.</summary>
    public static OnnxAttribute Float(string name, float value) => new(name, OnnxAttributeKind.Float, real: value);

    /// <summary>A list-of-floats attribute.</summary>
    public static OnnxAttribute Floats(string name, params float[] values) => new(name, OnnxAttributeKind.Floats, reals: Guard.NotNull(values).ToArray());

    /// <summary>A string attribute (UTF-8 in the file).</summary>
    public static OnnxAttribute String(string name, string value) => new(name, OnnxAttributeKind.String, text: Guard.NotNull(value));

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        OnnxAttributeKind.Int => $"{Name}={IntValue}",
        OnnxAttributeKind.Float => $"{Name}={FloatValue}",
        OnnxAttributeKind.Ints => $"{Name}=[{string.Join(", ", IntValues)}]",
        OnnxAttributeKind.Floats => $"{Name}=[{string.Join(", ", FloatValues)}]",
        _ => $"{Name}='{StringValue}'",
    };
}

/// <summary>The value type of an <see cref="OnnxAttribute"/> (onnx.proto's <c>AttributeProto.AttributeType</c>).</summary>
public enum OnnxAttributeKind
{
    /// <summary>One 32-bit float.</summary>
    Float = 1,
    /// <summary>One 64-bit integer.</summary>
    Int = 2,
    /// <summary>One string.</summary>
    String = 3,
    /// <summary>A list of 32-bit floats.</summary>
    Floats = 6,
    /// <summary>A list of 64-bit integers.</summary>
    Ints = 7,
}

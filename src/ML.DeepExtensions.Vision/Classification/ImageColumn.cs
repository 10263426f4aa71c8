using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace ML.DeepExtensions.Vision.Classification;

/// <summary>The image column rule of the vision estimators, once for both schema forms and with one message.</summary>
internal static class ImageColumn
{
    private const string Expected =
        "an image (load with mlContext.Transforms.LoadImages) or pixels as a known-size vector of Single or Byte with InputShape (channels, height, width)";

    /// <summary>The column, checked to hold images or pixel vectors.</summary>
    public static DataViewSchema.Column Check(DataViewSchema schema, string name, string role = "image")
    {
        var column = SchemaChecks.Find(schema, role, name);
        var accepted = column.Type is ImageDataViewType
                       || column.Type is VectorDataViewType { IsKnownSize: true } vector && FeatureVectors.IsAccepted(vector.ItemType);
        return accepted ? column : throw SchemaChecks.Mismatch(role, name, Expected, column.Type);
    }

    /// <summary>The shape form of <see cref="Check(DataViewSchema, string, string)"/>.</summary>
    public static SchemaShape.Column Check(SchemaShape schema, string name, string role = "image")
    {
        var column = SchemaChecks.Find(schema, role, name);
        var accepted = IsImage(column)
                       || column.Kind == SchemaShape.Column.VectorKind.Vector && FeatureVectors.IsAccepted(column.ItemType);
        return accepted ? column : throw SchemaChecks.Mismatch(role, name, Expected, SchemaChecks.Describe(column));
    }

    /// <summary>Whether a shape column holds images (rather than pixel vectors).</summary>
    public static bool IsImage(SchemaShape.Column column) => column.Kind == SchemaShape.Column.VectorKind.Scalar && column.ItemType is ImageDataViewType;
}

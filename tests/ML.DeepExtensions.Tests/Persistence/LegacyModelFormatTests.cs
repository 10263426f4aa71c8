using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using ML.DeepExtensions.TestSupport;
using Xunit;

namespace ML.DeepExtensions.Tests.Persistence;

/// <summary>
/// Zips saved by the code of model format v1 (tests/fixtures/model-format-v1, see its README) must keep loading with a
/// plain <c>mlContext.Model.Load</c> and score their recorded inputs bit for bit as they did when they were saved.
/// The feature-vector fixtures live here; the vision and text ones in their packages' test projects.
/// </summary>
[Trait("Category", "Persistence")]
public sealed class LegacyModelFormatTests
{
    private static readonly string[] Tested = ["vector-binary", "vector-multiclass", "vector-regression"];

    [Theory]
    [InlineData("vector-multiclass")]
    [InlineData("vector-binary")]
    [InlineData("vector-regression")]
    public void ModelSavedByFormatV1_LoadsAndScoresBitIdentically(string fixture)
    {
        var mlContext = new MLContext();
        var model = mlContext.Model.Load(ModelFormatFixtures.Zip(fixture), out var inputSchema);
        ModelFormatFixtures.AssertLoadedType(fixture, model);
        Assert.NotNull(inputSchema.GetColumnOrNull("Features"));
        ModelFormatFixtures.AssertOutputs(fixture, model.Transform(ModelFormatFixtures.Inputs(mlContext, fixture)));
    }

    [Fact]
    public void EveryFeatureVectorFixture_IsCheckedByThisClass()
        => Assert.Equal(Tested, ModelFormatFixtures.NamesFor("ML.DeepExtensions.Tests"));

    [Fact]
    public void EveryZipInTheFixtureFolder_HasExpectedOutputsAndATestProject()
    {
        var zips = Directory.GetFiles(ModelFormatFixtures.FolderPath, "*.zip").Select(Path.GetFileNameWithoutExtension).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var projects = new[] { "ML.DeepExtensions.Tests", "ML.DeepExtensions.Vision.Tests", "ML.DeepExtensions.Text.Tests" };
        Assert.Equal(zips, projects.SelectMany(ModelFormatFixtures.NamesFor).OrderBy(n => n, StringComparer.Ordinal).ToArray());
    }
}

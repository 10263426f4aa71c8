using System;
using System.Text.Json.Nodes;
using Microsoft.ML;
using ML.DeepExtensions.Scoring;
using ML.DeepExtensions.TestSupport;
using Xunit;

namespace ML.DeepExtensions.Tests.Reliability;

/// <summary>
/// Issue 10, "Header fields are trusted": every field of a network model's header is validated against the network it
/// describes when the model loads. The header is edited and re-hashed, as an attacker who knows the format would, so that
/// the integrity check passes and what is tested is the validation behind it.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class ModelHeaderValidationTests(DigitsModel digits) : IClassFixture<DigitsModel>
{
    private const string ModelStream = "TransformerChain/Model.key";

    public static TheoryData<string, string, string> Edits => new()
    {
        // name, JSON edit (property=value; "network.units" edits the first Dense layer), expected in the message
        { "outputs 5 for 10", "outputs=5", "outputs=5, but its network has 10 outputs" },
        { "outputs 16 for 10", "outputs=16", "outputs=16, but its network has 10 outputs" },
        { "classifier as regressor", "kind=\"Regression\"", "kind Regression needs 1 network outputs" },
        { "classifier as binary", "kind=\"BinaryClassification\"", "kind BinaryClassification needs 1 network outputs" },
        { "undefined kind", "kind=7", "kind 7 is not a NetworkTask" },
        { "batch size 0", "scoringBatchSize=0", "scoringBatchSize must be positive. Received: scoringBatchSize=0" },
        { "batch size -1", "scoringBatchSize=-1", "scoringBatchSize must be positive. Received: scoringBatchSize=-1" },
        { "huge batch size", "scoringBatchSize=2147483647", "larger than an array can hold" },
        { "2 class names for 10", "classNames=[\"a\",\"b\"]", "2 class names for 10 network outputs" },
        { "empty feature column", "featureColumn=\"\"", "feature column name is empty" },
        { "feature size 63", "inputShape=[63]", "tensor '0.weight' has shape [24, 64] in the stream, the network needs [24, 63]" },
        { "feature size 65", "inputShape=[65]", "needs at least" },
        { "zero input dimension", "inputShape=[0]", "input shape (0)" },
        { "overflowing input shape", "inputShape=[2147483647,2147483647,2147483647]", "input shape (2147483647, 2147483647, 2147483647)" },
        { "empty score column", "outputColumns.score=\"\"", "empty output column name" },
        { "score = predicted label", "outputColumns.score=\"PredictedLabel\"", "repeat a name" },
        { "null output columns", "outputColumns=null", "without output column names" },
        { "null network", "network=null", "without a network" },
        { "network that does not take the input", "network.units=\"x\"", "network description is not valid" },
        { "network narrower than its weights", "network.units=23", "does not match the network in its header: tensor '0.weight' has shape [24, 64]" },
        { "network wider than its weights", "network.units=25", "needs at least" },
    };

    [Theory]
    [MemberData(nameof(Edits))]
    public void EditedAndRehashedHeader_FailsToLoadWithAClearMessage(string name, string edit, string expected)
    {
        var zip = digits.Copy("edited-" + name.Replace(' ', '-'));
        ModelZipSurgery.EditHeader(zip, ModelStream, json => Apply(json, edit));

        Damage.AssertLoadFails(zip, "The model is damaged", "TransformerChain/", expected);
    }

    [Fact]
    public void RehashedHeaderWithoutChanges_StillLoadsAndScoresIdentically()
    {
        // The edits above fail because of what they change, not because of the editing.
        var zip = digits.Copy("rehashed");
        ModelZipSurgery.EditHeader(zip, ModelStream, _ => { });
        using var loaded = (NeuralNetworkTransformer)new MLContext().Model.Load(zip, out _);
        Assert.Equal(digits.Scores, TestData.Scores(loaded.Transform(digits.Test)));
    }

    /// <summary>Applies "path=json" to the header; "network.*" edits the first Dense layer inside the network JSON string.</summary>
    internal static void Apply(JsonObject header, string edit)
    {
        var split = edit.IndexOf('=', StringComparison.Ordinal);
        var path = edit[..split];
        var value = JsonNode.Parse(edit[(split + 1)..]);
        if (path.StartsWith("network.", StringComparison.Ordinal))
        {
            var network = JsonNode.Parse((string)header["network"]!)!;
            foreach (var layer in network["layers"]!.AsArray())
            {
                if ((string?)layer!["type"] == "Dense")
                {
                    layer[path["network.".Length..]] = value;
                    break;
                }
            }
            header["network"] = network.ToJsonString();
            return;
        }
        JsonObject target = header;
        var parts = path.Split('.');
        for (var i = 0; i < parts.Length - 1; i++)
            target = target[parts[i]]!.AsObject();
        target[parts[^1]] = value;
    }
}

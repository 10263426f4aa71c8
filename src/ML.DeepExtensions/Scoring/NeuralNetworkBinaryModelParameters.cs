using System;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace ML.DeepExtensions.Scoring;

/// <summary>
/// A fitted binary network as ML.NET model parameters — what ML.NET's meta-trainers (<c>OneVersusAll</c>,
/// <c>PairwiseCoupling</c>) and its <see cref="BinaryPredictionTransformer{TModel}"/> expect from a binary trainer. It maps a
/// feature vector to the network's logit (<c>Score</c>) and to its sigmoid (<c>Probability</c>): the network is trained with
/// cross-entropy on that sigmoid, so it counts as calibrated and <c>OneVersusAll</c> uses the probabilities as they are.
/// Produced by <see cref="Trainers.NeuralNetworkBinaryTrainerEstimator"/> (<c>trainer.AsTrainerEstimator()</c>); saved in the
/// model zip with the network inside.
/// </summary>
/// <remarks>
/// ML.NET scores model parameters one row at a time; for batched scoring use the <see cref="NeuralNetworkTransformer"/> that
/// <see cref="Network"/> returns (or the plain trainer).
/// </remarks>
public sealed class NeuralNetworkBinaryModelParameters : IDistPredictorProducing<float, float>, IValueMapperDist, ICanSaveModel, IDisposable
{
    internal const string LoaderSignature = "MLDX.NeuralBinaryParams";
    private const string NetworkDirectory = "Network";

    internal NeuralNetworkBinaryModelParameters(NeuralNetworkTransformer network)
    {
        if (network.Kind != NetworkTask.BinaryClassification)
            throw new ArgumentException($"Binary model parameters need a binary classification network. Received: a {network.Kind} network", nameof(network));
        Network = network;
        InputType = new VectorDataViewType(NumberDataViewType.Single, network.FeatureSize);
    }

    /// <summary>The fitted network (batched scoring, history, ONNX export, weights).</summary>
    public NeuralNetworkTransformer Network { get; }

    PredictionKind IPredictor.PredictionKind => PredictionKind.BinaryClassification;

    /// <summary>A vector of <see cref="NeuralNetworkTransformer.FeatureSize"/> Single values.</summary>
    public DataViewType InputType { get; }

    /// <summary>Single: the network's logit.</summary>
    public DataViewType OutputType => NumberDataViewType.Single;

    /// <summary>Single: the probability of the positive class.</summary>
    public DataViewType DistType => NumberDataViewType.Single;

    ValueMapper<TIn, TOut> IValueMapper.GetMapper<TIn, TOut>()
    {
        Check<TIn, TOut, float>();
        ValueMapper<VBuffer<float>, float> map = (in VBuffer<float> features, ref float score) => score = Logit(features);
        return (ValueMapper<TIn, TOut>)(Delegate)map;
    }

    ValueMapper<TIn, TOut, TDist> IValueMapperDist.GetMapper<TIn, TOut, TDist>()
    {
        Check<TIn, TOut, TDist>();
        ValueMapper<VBuffer<float>, float, float> map = (in VBuffer<float> features, ref float score, ref float probability) =>
        {
            score = Logit(features);
            probability = 1f / (1f + MathF.Exp(-score));
        };
        return (ValueMapper<TIn, TOut, TDist>)(Delegate)map;
    }

    private static void Check<TIn, TOut, TDist>()
    {
        if (typeof(TIn) != typeof(VBuffer<float>) || typeof(TOut) != typeof(float) || typeof(TDist) != typeof(float))
            throw new InvalidOperationException(
                $"{nameof(NeuralNetworkBinaryModelParameters)} maps VBuffer<Single> features to Single. Requested: {typeof(TIn).Name} to {typeof(TOut).Name}, {typeof(TDist).Name}");
    }

    private float Logit(in VBuffer<float> features)
    {
        if (features.Length != Network.FeatureSize)
            throw new ArgumentOutOfRangeException(nameof(features), features.Length,
                $"Column '{Network.FeatureColumnName}': expected a vector of {Network.FeatureSize} Single values; received {features.Length} values.");
        var values = new float[Network.FeatureSize];
        features.CopyTo(values);
        return Network.Score(values, 1).Scores[0];
    }

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(VersionInfo());
        ctx.SaveModel(Network, NetworkDirectory);
    }

    /// <summary>Frees the network's native memory now.</summary>
    public void Dispose() => Network.Dispose();

    private static VersionInfo VersionInfo() => new(
        modelSignature: "MLDXNBMP",
        verWrittenCur: 0x00010001,
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(NeuralNetworkBinaryModelParameters).Assembly.GetName().Name);

    /// <summary>Called by ML.NET's component catalog when a zip names <see cref="LoaderSignature"/>.</summary>
    internal static NeuralNetworkBinaryModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(VersionInfo());
        ctx.LoadModel<NeuralNetworkTransformer, SignatureLoadModel>(env, out var network, NetworkDirectory);
        if (network.Kind != NetworkTask.BinaryClassification)
            throw new System.IO.InvalidDataException(
                $"The model's '{LoaderSignature}' entry holds a {network.Kind} network; binary model parameters need a binary classification network.");
        return new NeuralNetworkBinaryModelParameters(network);
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// CTC loss (libtorch's native <c>ctc_loss</c>, blank = 0, each utterance's loss divided by its target length, then the
/// batch mean; infinite losses of impossible alignments zeroed) over per-frame logits <c>(N, T, classes)</c>, with
/// targets <c>(N, S)</c> padded by 0 and the lengths in the batch's extras. Metrics decode greedily and compare with the
/// targets: <c>WordErrorRate</c>, <c>CharacterErrorRate</c> and <c>WordAccuracy</c> over the whole pass, so
/// <c>EarlyStopping("ValidationWordErrorRate")</c> monitors WER.
/// </summary>
internal sealed class CtcObjective(CharacterVocabulary vocabulary) : TrainingObjective
{
    public const string OutputLengthsKey = "OutputLengths";
    public const string TargetLengthsKey = "TargetLengths";

    public override ScalarType LabelType => ScalarType.Int64;

    protected override Tensor Loss(Tensor output, Tensor labels, Batch batch)
    {
        using var scope = torch.NewDisposeScope();
        var logProbabilities = output.log_softmax(2).transpose(0, 1);
        var loss = nn.functional.ctc_loss(logProbabilities, labels, batch.Extras[OutputLengthsKey], batch.Extras[TargetLengthsKey],
            blank: 0, zero_infinity: true, reduction: nn.Reduction.Mean);
        return loss.MoveToOuterDisposeScope();
    }

    public override MetricAccumulator CreateAccumulator() => new Accumulator(vocabulary);

    /// <summary>Greedy transcripts of a batch's outputs, each cut to its utterance's output frames.</summary>
    public static string[] Greedy(Tensor output, long[] lengths, CharacterVocabulary vocabulary)
    {
        using var scope = torch.NewDisposeScope();
        var classes = (int)output.shape[2];
        var frames = (int)output.shape[1];
        var scores = HostCopy.ToArray<float>(output.detach());
        return lengths.Select((length, i) => vocabulary.Decode(CtcDecoding.Greedy(scores.AsSpan(i * frames * classes, frames * classes), (int)length, classes))).ToArray();
    }

    private sealed class Accumulator(CharacterVocabulary vocabulary) : MetricAccumulator
    {
        private readonly List<(string, string)> _pairs = [];

        protected override void AddCore(double meanLoss, Tensor output, Batch batch)
        {
            using var scope = torch.NewDisposeScope();
            var lengths = HostCopy.ToArray<long>(batch.Extras[OutputLengthsKey]);
            var targetLengths = HostCopy.ToArray<long>(batch.Extras[TargetLengthsKey]);
            var labels = HostCopy.ToArray<long>(batch.Labels);
            var width = (int)batch.Labels.shape[1];
            var hypotheses = Greedy(output, lengths, vocabulary);
            for (var i = 0; i < hypotheses.Length; i++)
            {
                var reference = vocabulary.Decode(labels.Skip(i * width).Take((int)targetLengths[i]).Select(l => (int)l));
                _pairs.Add((reference, hypotheses[i]));
            }
        }

        protected override void ResultCore(Dictionary<string, double> result, long count)
        {
            var metrics = SpeechRecognitionMetrics.From(_pairs);
            result["WordErrorRate"] = metrics.WordErrorRate;
            result["CharacterErrorRate"] = metrics.CharacterErrorRate;
            result["WordAccuracy"] = metrics.WordAccuracy;
        }
    }
}

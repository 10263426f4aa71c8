using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.Interop;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Tasks;
using ML.DeepExtensions.Training;
using TorchSharp;
using static TorchSharp.torch;
using ML.DeepExtensions.Runtime;

namespace ML.DeepExtensions.Audio;

/// <summary>
/// Speech recognition on the task contract: audio samples + transcript → per-frame character logits, trained with CTC
/// (<see cref="CtcObjective"/>). Rows are read once into features (<see cref="FeatureBank"/>, the code scoring uses);
/// batches are padded to their longest utterance with a mask channel, and carry output and target lengths as extras.
/// </summary>
internal sealed class SpeechRecognitionTask : TrainingTask
{
    private readonly SpeechRecognizerOptions _options;
    private readonly CharacterVocabulary _vocabulary;
    private readonly Func<long, long> _outputFrames;

    public SpeechRecognitionTask(SpeechRecognizerOptions options, CharacterVocabulary vocabulary)
    {
        _options = options;
        _vocabulary = vocabulary;
        _outputFrames = SpeechEncoding.OutputFrames(Network(options, vocabulary.Classes), InputShape(options.Features));
    }

    /// <summary>The encoder + output layer for <paramref name="classes"/> classes (blank included).</summary>
    public static Network Network(SpeechRecognizerOptions options, int classes)
    {
        var (name, parameters) = options.Architecture switch
        {
            SpeechEncoder.QuartzNet => (SpeechArchitectures.QuartzNet, ArchitectureParameters.From(options.QuartzNet)),
            SpeechEncoder.Conformer => (SpeechArchitectures.Conformer, ArchitectureParameters.From(options.Conformer)),
            _ => (SpeechArchitectures.DeepSpeech2, ArchitectureParameters.From(options.Encoder)),
        };
        return Networks.Network.Create().Architecture(name, parameters.Values).Dense(classes);
    }

    /// <summary>Input shape seen by shape inference: one frame of features plus the mask channel.</summary>
    public static int[] InputShape(AudioFeatureOptions features) => [features.FeaturesPerFrame + 1];

    /// <inheritdoc />
    public override TaskNetwork Plan(DataViewSchema training, DataViewSchema? validation)
    {
        CheckColumns(training, _options);
        if (validation is not null)
            CheckColumns(validation, _options, "validation ");
        return new TaskNetwork(Network(_options, _vocabulary.Classes), InputShape(_options.Features));
    }

    /// <inheritdoc />
    public override SchemaShape OutputSchema(SchemaShape input) => OutputSchema(input, _options);

    /// <summary>The output shape: the checks of <see cref="Plan"/> on a shape, then the transcript column added.</summary>
    public static SchemaShape OutputSchema(SchemaShape input, SpeechRecognizerOptions options)
    {
        AudioColumn.Check(input, options.AudioColumnName);
        var transcript = SchemaChecks.Find(input, "transcript", options.TranscriptColumnName);
        if (transcript.Kind != SchemaShape.Column.VectorKind.Scalar || transcript.ItemType is not TextDataViewType)
            throw SchemaChecks.Mismatch("transcript", transcript.Name, "String", SchemaChecks.Describe(transcript));
        var columns = input.ToDictionary(c => c.Name);
        columns[options.OutputColumnName] = MLNetInternals.Column(options.OutputColumnName, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, false);
        return new SchemaShape(columns.Values);
    }

    internal static void CheckColumns(DataViewSchema schema, SpeechRecognizerOptions options, string prefix = "")
    {
        AudioColumn.Check(schema, options.AudioColumnName, prefix + "audio");
        var transcript = SchemaChecks.Find(schema, prefix + "transcript", options.TranscriptColumnName);
        if (transcript.Type is not TextDataViewType)
            throw SchemaChecks.Mismatch(prefix + "transcript", transcript.Name, "String", transcript.Type);
    }

    /// <inheritdoc />
    public override BatchSource Read(IDataView data, Func<long, bool>? rows, string role, TrainerOptions options)
    {
        var utterances = new List<Utterance>();
        using var bank = new FeatureBank(_options.Features, CPU);
        foreach (var (row, samples, transcript) in ReadRows(data, _options.AudioColumnName, _options.TranscriptColumnName, rows, role, options.CancellationToken))
        {
            var text = CharacterVocabulary.Normalize(transcript);
            if (text.Length == 0)
                throw new InvalidDataException($"The {role} transcript of row {row} (column '{_options.TranscriptColumnName}') is empty; expected the words spoken in the audio. Remove the row or fill in its transcript.");
            var ids = _vocabulary.Encode(text, role, row);
            float[] features;
            int frames;
            using (var scope = torch.NewDisposeScope())
            using (torch.no_grad())
            {
                var f = bank.Utterance(samples);
                frames = (int)f.shape[0];
                features = HostCopy.ToArray<float>(f);
            }
            var outputFrames = _outputFrames(frames);
            var needed = ids.Length + ids.Zip(ids.Skip(1)).Count(p => p.First == p.Second);
            if (needed > outputFrames)
                throw new InvalidDataException(
                    $"The {role} audio of row {row} is too short for its transcript \"{text}\": {samples.Length} samples give {outputFrames} output frames, and CTC needs at least {needed} " +
                    "(one per character plus one between repeated characters). Check that the audio and transcript belong together and that the sample rate is right.");
            utterances.Add(new Utterance(features, frames, ids.Select(i => (long)i).ToArray()));
        }
        if (utterances.Count == 0)
            throw BatchSource.NoRows($"The {role} data has no rows (audio column '{_options.AudioColumnName}', transcript column '{_options.TranscriptColumnName}'); at least one row is required.");
        return new SpeechBatchSource(utterances, _options.Features.FeaturesPerFrame, _options.LengthBucketing, _outputFrames);
    }

    /// <summary>Rows of audio and transcript, with their row numbers; an audio vector without samples is an error naming the row.</summary>
    internal static IEnumerable<(long Row, float[] Samples, string Transcript)> ReadRows(IDataView data, string audioColumn, string transcriptColumn,
        Func<long, bool>? rows, string role, CancellationToken cancellation)
    {
        var audio = data.Schema[audioColumn];
        var transcript = data.Schema[transcriptColumn];
        using var cursor = data.GetRowCursor(new[] { audio, transcript });
        var getAudio = AudioColumn.Getter(cursor, audio);
        var getText = cursor.GetGetter<ReadOnlyMemory<char>>(transcript);
        var text = default(ReadOnlyMemory<char>);
        long row = -1;
        while (cursor.MoveNext())
        {
            cancellation.ThrowIfCancellationRequested();
            row++;
            if (rows is not null && !rows(row))
                continue;
            var samples = getAudio(row, role);
            getText(ref text);
            yield return (row, samples, text.ToString());
        }
    }

    /// <inheritdoc />
    public override TrainingObjective CreateObjective() => new CtcObjective(_vocabulary);

    private sealed record Utterance(float[] Features, int Frames, long[] Targets);

    /// <summary>In-memory utterances; each batch is padded to its longest one (bucketing keeps that close to every row).</summary>
    private sealed class SpeechBatchSource(List<Utterance> rows, int featuresPerFrame, bool bucketing, Func<long, long> outputFrames) : BatchSource(featuresPerFrame + 1, ScalarType.Int64)
    {
        public override bool InMemory => true;

        public override long? Count => rows.Count;

        protected override IEnumerable<Batch> Produce(int batchSize, Random? shuffle, CancellationToken cancellation)
        {
            var order = Order(rows.Count, shuffle, batchSize, bucketing ? i => rows[i].Frames : null);
            for (var start = 0; start < order.Length; start += batchSize)
            {
                cancellation.ThrowIfCancellationRequested();
                yield return Make(order.AsSpan(start, Math.Min(batchSize, order.Length - start)).ToArray().Select(i => rows[i]).ToArray());
            }
        }

        private Batch Make(Utterance[] batch)
        {
            var frames = batch.Max(u => u.Frames);
            var targets = batch.Max(u => u.Targets.Length);
            var width = featuresPerFrame + 1;
            var features = new float[batch.Length * frames * width];
            var labels = new long[batch.Length * targets];
            for (var i = 0; i < batch.Length; i++)
            {
                var u = batch[i];
                for (var t = 0; t < u.Frames; t++)
                {
                    Array.Copy(u.Features, t * featuresPerFrame, features, (i * frames + t) * width, featuresPerFrame);
                    features[(i * frames + t) * width + featuresPerFrame] = 1;
                }
                Array.Copy(u.Targets, 0, labels, i * targets, u.Targets.Length);
            }
            var extras = new Dictionary<string, Tensor>
            {
                [CtcObjective.OutputLengthsKey] = torch.tensor(batch.Select(u => outputFrames(u.Frames)).ToArray()),
                [CtcObjective.TargetLengthsKey] = torch.tensor(batch.Select(u => (long)u.Targets.Length).ToArray()),
            };
            return new Batch(torch.tensor(features, new long[] { batch.Length, frames, width }), torch.tensor(labels, new long[] { batch.Length, targets }), extras);
        }
    }
}

/// <summary>The audio column: a vector of Single (known or variable size) of mono samples.</summary>
internal static class AudioColumn
{
    private const string Expected = "a vector of Single (mono samples, e.g. from mlContext.Transforms.LoadAudio)";

    public static void Check(DataViewSchema schema, string name, string role = "audio")
    {
        var column = SchemaChecks.Find(schema, role, name);
        if (column.Type is not VectorDataViewType { ItemType: var item } || item != NumberDataViewType.Single)
            throw SchemaChecks.Mismatch(role, name, Expected, column.Type);
    }

    public static void Check(SchemaShape schema, string name)
    {
        var column = SchemaChecks.Find(schema, "audio", name);
        if (column.Kind == SchemaShape.Column.VectorKind.Scalar || column.ItemType != NumberDataViewType.Single)
            throw SchemaChecks.Mismatch("audio", name, Expected, SchemaChecks.Describe(column));
    }

    /// <summary>A reader of the current row's samples; a row without samples or with a non-finite sample throws naming the row.</summary>
    public static Func<long, string, float[]> Getter(DataViewRow row, DataViewSchema.Column column)
    {
        var get = row.GetGetter<VBuffer<float>>(column);
        var buffer = default(VBuffer<float>);
        return (index, role) =>
        {
            get(ref buffer);
            if (buffer.Length == 0)
                throw new InvalidDataException($"The {role} audio of row {index} (column '{column.Name}') has no samples; expected at least one sample of mono audio.");
            var samples = new float[buffer.Length];
            buffer.CopyTo(samples);
            foreach (var s in samples)
            {
                if (!float.IsFinite(s))
                    throw new InvalidDataException($"The {role} audio of row {index} (column '{column.Name}') holds a non-finite sample ({s}); expected finite samples.");
            }
            return samples;
        };
    }
}

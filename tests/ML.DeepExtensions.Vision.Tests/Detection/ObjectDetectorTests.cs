using System;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions.TestSupport;
using ML.DeepExtensions.Training;
using ML.DeepExtensions.Vision.Detection;
using Xunit;
using Xunit.Abstractions;

namespace ML.DeepExtensions.Vision.Tests.Detection;

public sealed class ObjectDetectorTests(ITestOutputHelper output)
{
    private static readonly string[] FourClasses = ["Trouser", "Bag", "Sneaker", "T-shirt"];

    private static ObjectDetectorOptions Small(int epochs = 1) => new() { Epochs = epochs, BatchSize = 8, Architecture = new AnchorFreeDetectorParameters { Width = 0.5 } };

    private static DetectionTestData.Row[] Canvases(string split, int count, int seed)
        => DetectionTestData.Rows(DetectionTestData.Canvases.Generate(split, count, seed, FourClasses)).ToArray();

    /// <summary>Fits the detector on rows whose last one is replaced by <paramref name="bad"/>; returns the error.</summary>
    private static Exception FitWithBadRow(DetectionTestData.Row bad)
    {
        var ml = new MLContext(seed: 1);
        var rows = Canvases("train", 3, 1).Append(bad).ToArray();
        var data = DetectionTestData.Load(ml, rows);
        var keyed = DetectionTestData.Keys(ml, data).Transform(data);
        return Record.Exception(() => ml.MulticlassClassification.Trainers.ObjectDetector(Small()).Fit(keyed))!;
    }

    [Fact]
    public void Fit_BoxWithX1BelowX0_ThrowsNamingRowAndColumn()
    {
        var error = Assert.IsType<InvalidDataException>(FitWithBadRow(new() { Image = Canvases("train", 1, 2)[0].Image, Labels = ["Bag"], Box = [50, 10, 40, 30] }));
        Assert.Contains("Row 3 of the training data", error.Message);
        Assert.Contains("box column 'Box'", error.Message);
        Assert.Contains("x0 < x1", error.Message);
    }

    [Fact]
    public void Fit_BoxCountNotFourTimesLabels_ThrowsNamingBothColumns()
    {
        var error = Assert.IsType<InvalidDataException>(FitWithBadRow(new() { Image = Canvases("train", 1, 2)[0].Image, Labels = ["Bag", "Trouser"], Box = [10, 10, 40, 30] }));
        Assert.Contains("Row 3", error.Message);
        Assert.Contains("'Box' holds 4 values for the 2 labels of label column 'Label'", error.Message);
    }

    [Fact]
    public void Fit_BoxOutsideImage_ThrowsWithImageSize()
    {
        var error = Assert.IsType<InvalidDataException>(FitWithBadRow(new() { Image = Canvases("train", 1, 2)[0].Image, Labels = ["Bag"], Box = [100, 100, 140, 120] }));
        Assert.Contains("Row 3", error.Message);
        Assert.Contains("outside the image of 128×128 pixels", error.Message);
    }

    [Fact]
    public void Fit_EmptyImage_ThrowsNamingRowAndImageColumn()
    {
        var error = Assert.IsType<InvalidDataException>(FitWithBadRow(new() { Image = null, Labels = ["Bag"], Box = [10, 10, 40, 30] }));
        Assert.Contains("Row 3 of the training data: image column 'Image' holds no image", error.Message);
    }

    [Fact]
    public void Fit_NoBoxesAtAll_ThrowsBeforeTraining()
    {
        var ml = new MLContext(seed: 1);
        var canvas = Canvases("train", 2, 3);
        var rows = canvas.Select(r => new DetectionTestData.Row { Image = r.Image, Labels = [], Box = [] }).ToArray();
        var data = DetectionTestData.Load(ml, rows);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", "Labels", keyData: ml.Data.LoadFromEnumerable(FourClasses.Select(c => new { Labels = c }))).Fit(data).Transform(data);
        var error = Assert.Throws<InvalidDataException>(() => ml.MulticlassClassification.Trainers.ObjectDetector(Small()).Fit(keyed));
        Assert.Contains("no boxes at all", error.Message);
        Assert.Contains("'Label'", error.Message);
    }

    [Fact]
    public void Fit_LabelNotKeys_ThrowsSchemaMismatch()
    {
        var ml = new MLContext(seed: 1);
        var data = DetectionTestData.Load(ml, Canvases("train", 2, 1));
        var shape = ML.DeepExtensions.Interop.MLNetInternals.Shape(data.Schema);
        var trainer = ml.MulticlassClassification.Trainers.ObjectDetector(labelColumnName: "Labels");
        var fromShape = Assert.Throws<ArgumentOutOfRangeException>(() => { trainer.GetOutputSchema(shape); });
        var fromFit = Assert.Throws<ArgumentOutOfRangeException>(() => { trainer.Fit(data).Dispose(); });
        Assert.Contains("Schema mismatch for label column 'Labels'", fromFit.Message);
        Assert.Equal(fromShape.Message, fromFit.Message);
    }

    [Fact]
    public void Options_BadValues_ThrowNamingTheOption()
    {
        var ml = new MLContext();
        Assert.Equal("ImageSize", Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions { ImageSize = 100 })).ParamName);
        Assert.Equal("IouThreshold", Assert.Throws<ArgumentOutOfRangeException>(() => ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions { IouThreshold = 0 })).ParamName);
        Assert.Contains("BatchSize", Assert.ThrowsAny<ArgumentException>(() => ml.MulticlassClassification.Trainers.ObjectDetector(batchSize: 0)).Message);
    }

    [Fact]
    public void FruitSet_MLNetShapedData_TrainsScoresEvaluatesAndDraws()
    {
        Assert.True(Directory.Exists(DetectionTestData.FruitDirectory()), $"ML.NET's fruit set is expected at {DetectionTestData.FruitDirectory()} (CI has it there).");
        var ml = new MLContext(seed: 1);
        var data = DetectionTestData.Load(ml, DetectionTestData.Fruit());
        var keyed = DetectionTestData.Keys(ml, data).Transform(data);
        using var model = ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions { Epochs = 1, BatchSize = 5, ImageSize = 96, ScoreThreshold = 0 }).Fit(keyed);
        var scored = model.Transform(keyed);
        Assert.IsType<VectorDataViewType>(scored.Schema["PredictedLabel"].Type);
        Assert.IsType<KeyDataViewType>(((VectorDataViewType)scored.Schema["PredictedLabel"].Type).ItemType);
        var boxes = scored.GetColumn<float[]>("PredictedBoundingBoxes").ToArray();
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        Assert.Equal(10, boxes.Length);
        Assert.All(boxes.Zip(scores), p => Assert.Equal(4 * p.Second.Length, p.First.Length));
        Assert.All(boxes.SelectMany(b => b), v => Assert.InRange(v, 0, 100));
        var metrics = ml.MulticlassClassification.EvaluateDetections(scored);
        Assert.InRange(metrics.MeanAveragePrecision50, 0, 1);
        var image = DetectionTestData.Fruit()[0];
        var detections = model.Detect([image.Image])[0];
        using var drawn = DetectionDrawing.Draw(image.Image!, detections, image.Labels, image.Box);
        Assert.Equal(image.Image!.Width, drawn.Width);
    }

    [Fact]
    public void ValidationFraction_ReportsMeanAveragePrecision_WhichEarlyStoppingMonitors()
    {
        var ml = new MLContext(seed: 1);
        var data = DetectionTestData.Load(ml, Canvases("train", 24, 6));
        var keyed = DetectionTestData.Keys(ml, data).Transform(data);
        var options = Small(epochs: 3);
        options.ImageSize = 64;
        options.ValidationFraction = 0.25;
        options.EarlyStopping = new EarlyStopping("ValidationMeanAveragePrecision50", patience: 1, restoreBestWeights: true);
        using var model = ml.MulticlassClassification.Trainers.ObjectDetector(options).Fit(keyed);
        Assert.All(model.History, h =>
        {
            Assert.InRange(h.Validation["MeanAveragePrecision50"], 0, 1);
            Assert.InRange(h.Validation["MeanAveragePrecision"], 0, h.Validation["MeanAveragePrecision50"]);
        });
    }

    [Fact]
    public void Fit_TrainingMeanAveragePrecision_OnlyWhenAsked_ValidationMeanAveragePrecisionAlways()
    {
        var ml = new MLContext(seed: 1);
        var data = DetectionTestData.Load(ml, Canvases("train", 8, 6));
        var keyed = DetectionTestData.Keys(ml, data).Transform(data);
        foreach (var asked in new[] { false, true })
        {
            var options = Small();
            options.ValidationSet = keyed;
            options.TrainingMeanAveragePrecision = asked;
            using var model = ml.MulticlassClassification.Trainers.ObjectDetector(options).Fit(keyed);
            var epoch = Assert.Single(model.History);
            Assert.True(double.IsFinite(epoch.Training["Loss"]));
            Assert.Equal(asked, epoch.Training.ContainsKey("MeanAveragePrecision50"));
            Assert.Equal(asked, epoch.Training.ContainsKey("MeanAveragePrecision"));
            Assert.InRange(epoch.Validation["MeanAveragePrecision50"], 0, 1);
        }
    }

    [Fact]
    public void Options_MonitoringTrainingMeanAveragePrecisionWithoutIt_ThrowsNamingTheOption()
    {
        var ml = new MLContext(seed: 1);
        var options = Small();
        options.EarlyStopping = new EarlyStopping("TrainingMeanAveragePrecision50", patience: 2);
        var ex = Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers.ObjectDetector(options));
        Assert.Equal(nameof(ObjectDetectorOptions.TrainingMeanAveragePrecision), ex.ParamName);
        Assert.Contains("TrainingMeanAveragePrecision50", ex.Message, StringComparison.Ordinal);
        options.TrainingMeanAveragePrecision = true;
        Assert.NotNull(ml.MulticlassClassification.Trainers.ObjectDetector(options));
        var plateau = Small();
        plateau.Schedule = LearningRateSchedule.ReduceOnPlateau("TrainingMeanAveragePrecision");
        Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers.ObjectDetector(plateau));
    }

    [Theory]
    [InlineData(DetectionArchitectures.AnchorFreeDetectorName)]
    [InlineData(DetectionArchitectures.FasterRcnnName)]
    [InlineData(DetectionArchitectures.SsdName)]
    [InlineData(DetectionArchitectures.AnchorFreeDetectorName + "+Pyramid")]
    [InlineData(DetectionArchitectures.AnchorFreeDetectorName + "+ResNet18")]
    public void SaveLoad_FreshProcess_GivesIdenticalBoxes(string architecture)
    {
        var pyramid = architecture.EndsWith("+Pyramid", StringComparison.Ordinal);
        var resNet = architecture.EndsWith("+ResNet18", StringComparison.Ordinal);
        architecture = architecture.Replace("+Pyramid", "", StringComparison.Ordinal).Replace("+ResNet18", "", StringComparison.Ordinal);
        var ml = new MLContext(seed: 1);
        var rows = Canvases("train", 24, 4);
        var data = DetectionTestData.Load(ml, rows);
        var keys = DetectionTestData.Keys(ml, data);
        DetectorParameters parameters = architecture switch
        {
            DetectionArchitectures.FasterRcnnName => new FasterRcnnParameters { Width = 0.5, Proposals = 32, HeadUnits = 64 },
            DetectionArchitectures.SsdName => new SsdParameters { Width = 0.5 },
            _ => new AnchorFreeDetectorParameters { Width = 0.5, PyramidLevels = pyramid ? 3 : 1, Backbone = resNet ? DetectorBackbone.ResNet18 : DetectorBackbone.Compact },
        };
        using var model = ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions { Epochs = 2, BatchSize = 8, ScoreThreshold = 0.01, Architecture = parameters })
            .Fit(keys.Transform(data));
        Assert.Equal(architecture, ObjectDetectorTransformer.ArchitectureOf(model.Network));
        var dir = Directory.CreateTempSubdirectory("detector-").FullName;
        try
        {
            var test = Canvases("test", 4, 5);
            var paths = test.Select((r, i) => Path.Combine(dir, $"{i}.png")).ToArray();
            for (var i = 0; i < test.Length; i++)
                test[i].Image!.Save(paths[i]);
            var listed = ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }));
            var loadImages = ml.Transforms.LoadImages("Image", null, nameof(PathRow.ImagePath)).Fit(listed);
            var modelPath = Path.Combine(dir, "model.zip");
            var preparePath = Path.Combine(dir, "prepare.zip");
            ml.Model.Save(model, loadImages.Transform(listed).Schema, modelPath);
            ml.Model.Save(loadImages, listed.Schema, preparePath);
            var inputPath = Path.Combine(dir, "input.idv");
            using (var stream = File.Create(inputPath))
                ml.Data.SaveAsBinary(listed, stream);
            var outputPath = Path.Combine(dir, "output.idv");
            var (exit, stdout, stderr) = ProbeRunner.Run("transform", modelPath, inputPath, outputPath, "--prepare", preparePath, "PredictedBoundingBoxes", "Score");
            Assert.True(exit == 0, stdout + stderr);
            Assert.Contains(typeof(ObjectDetectorTransformer).FullName!, stdout);

            var here = model.Transform(loadImages.Transform(listed));
            var expectedBoxes = here.GetColumn<float[]>("PredictedBoundingBoxes").ToArray();
            var loaded = ml.Data.LoadFromBinary(outputPath);
            var actualBoxes = loaded.GetColumn<float[]>("PredictedBoundingBoxes").ToArray();
            Assert.True(expectedBoxes.Sum(b => b.Length) > 0, "the model should detect something to compare");
            Assert.Equal(expectedBoxes, actualBoxes);
            Assert.Equal(here.GetColumn<float[]>("Score").ToArray(), loaded.GetColumn<float[]>("Score").ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [Trait("Category", "Accuracy")]
    [InlineData(TrainingPrecision.Float32)]
    [InlineData(TrainingPrecision.MixedBFloat16)] // bfloat16 convolutions in training; boxes, losses and scoring float32
    public void Canvases_SmallDetector_EarnsMeanAveragePrecision(TrainingPrecision precision)
    {
        var ml = new MLContext(seed: 7);
        var train = DetectionTestData.Load(ml, Canvases("train", AccuracyTrainCanvases, 10));
        var test = DetectionTestData.Load(ml, Canvases("test", 100, 20));
        var keys = DetectionTestData.Keys(ml, train);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var model = ml.MulticlassClassification.Trainers.ObjectDetector(new ObjectDetectorOptions
        {
            Epochs = AccuracyEpochs,
            BatchSize = 16,
            LearningRate = 2e-3,
            Schedule = LearningRateSchedule.Cosine(),
            ScoreThreshold = 0.05,
            ValidationSet = keys.Transform(test),
            Callback = null,
            Precision = precision,
        }).Fit(keys.Transform(train));
        var metrics = ml.MulticlassClassification.EvaluateDetections(model.Transform(keys.Transform(test)));
        output.WriteLine($"{precision}: {metrics} in {clock.Elapsed.TotalSeconds:F0} s; epochs: " +
                         string.Join(" | ", model.History.Select(h => $"{h.Epoch}: loss {h.Training["Loss"]:F3} val mAP50 {h.Validation["MeanAveragePrecision50"]:F3}")));
        Assert.Equal(model.History[^1].Validation["MeanAveragePrecision50"], metrics.MeanAveragePrecision50, 2);
        Assert.True(metrics.MeanAveragePrecision50 >= AccuracyThreshold, $"mAP@0.5 {metrics.MeanAveragePrecision50:F3} < {AccuracyThreshold}");
    }

    private const int AccuracyTrainCanvases = 320;
    private const int AccuracyEpochs = 5;
    private const double AccuracyThreshold = 0.8;

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }
}

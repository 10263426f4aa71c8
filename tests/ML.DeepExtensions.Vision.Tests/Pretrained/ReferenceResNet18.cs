using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ML.DeepExtensions.Vision.Tests.Pretrained;

/// <summary>
/// torchvision's resnet18 written in TorchSharp with the same submodule names and registration order
/// (conv1, bn1, layer1…layer4 of BasicBlocks with downsample, fc), used to check the weight loaders on a
/// full ResNet-18 independently of the zoo's implementation.
/// </summary>
internal sealed class ReferenceResNet18 : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d _conv1 = nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
    private readonly BatchNorm2d _bn1 = nn.BatchNorm2d(64);
    private readonly MaxPool2d _maxpool = nn.MaxPool2d(3, stride: 2, padding: 1);
    private readonly Sequential[] _layers;
    private readonly Linear _fc;

    /// <param name="classes">Outputs of the fc head.</param>
    /// <param name="blocks">Basic blocks per stage (torchvision's resnet18: 2, 2, 2, 2).</param>
    public ReferenceResNet18(int classes = 1000, int[]? blocks = null) : base("ResNet18")
    {
        blocks ??= [2, 2, 2, 2];
        register_module("conv1", _conv1);
        register_module("bn1", _bn1);
        int[] widths = [64, 128, 256, 512];
        _layers = new Sequential[4];
        for (var stage = 0; stage < 4; stage++)
        {
            var input = stage == 0 ? 64 : widths[stage - 1];
            _layers[stage] = nn.Sequential(Enumerable.Range(0, blocks[stage])
                .Select(b => (nn.Module<Tensor, Tensor>)new BasicBlock(b == 0 ? input : widths[stage], widths[stage], b == 0 && stage > 0 ? 2 : 1))
                .ToArray());
        }
        for (var i = 0; i < _layers.Length; i++)
            register_module($"layer{i + 1}", _layers[i]);
        _fc = nn.Linear(512, classes);
        register_module("fc", _fc);
    }

    public Tensor Features(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = _maxpool.forward(nn.functional.relu(_bn1.forward(_conv1.forward(x))));
        foreach (var layer in _layers)
            x = layer.forward(x);
        return x.mean([2, 3]).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return _fc.forward(Features(x)).MoveToOuterDisposeScope();
    }

    private sealed class BasicBlock : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d _conv1;
        private readonly BatchNorm2d _bn1;
        private readonly Conv2d _conv2;
        private readonly BatchNorm2d _bn2;
        private readonly Sequential? _downsample;

        public BasicBlock(int input, int output, int stride) : base("BasicBlock")
        {
            _conv1 = nn.Conv2d(input, output, 3, stride: stride, padding: 1, bias: false);
            _bn1 = nn.BatchNorm2d(output);
            _conv2 = nn.Conv2d(output, output, 3, stride: 1, padding: 1, bias: false);
            _bn2 = nn.BatchNorm2d(output);
            register_module("conv1", _conv1);
            register_module("bn1", _bn1);
            register_module("conv2", _conv2);
            register_module("bn2", _bn2);
            if (stride != 1 || input != output)
            {
                _downsample = nn.Sequential(nn.Conv2d(input, output, 1, stride: stride, bias: false), nn.BatchNorm2d(output));
                register_module("downsample", _downsample);
            }
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var y = _bn2.forward(_conv2.forward(nn.functional.relu(_bn1.forward(_conv1.forward(x)))));
            var shortcut = _downsample is null ? x : _downsample.forward(x);
            return nn.functional.relu(y + shortcut).MoveToOuterDisposeScope();
        }
    }
}

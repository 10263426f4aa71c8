#!/usr/bin/python3
"""Reference outputs for the pretrained-weights parity tests.

Builds a PyTorch model with a fixed seed (random weights, and random batch-norm running statistics so that
the buffers matter), puts it in eval mode and writes into OUTPUT_DIR:

  state_dict.pt    torch.save(model.state_dict())
  input.f32        the fixed input batch, raw little-endian float32, NCHW
  output.f32       the model's outputs on that batch, raw float32
  features.f32     (resnet18 only) the 512 penultimate features (after global average pooling)
  meta.json        shapes, tensor names in state-dict order, torch/torchvision versions

Models:
  resnet18  torchvision.models.resnet18(weights=None): 1000-class head (fc), input 2x3x64x64
  small     a small CNN whose parameter names differ from ours (features.*, classifier) but whose
            order and shapes match the ML.DeepExtensions network
            Conv2d(8,3,pad 1) BatchNorm ReLU MaxPool2d(2) Conv2d(16,3,pad 1) BatchNorm ReLU GlobalAveragePool Dense(10)

Run with Debian's /usr/bin/python3 and python3-torchvision (eng/install-reference-tools.sh):
  /usr/bin/python3 eng/reference/torchvision_resnet18.py OUTPUT_DIR [--model resnet18|small] [--seed N]
"""
import argparse
import json
import os

import torch
import torch.nn as nn


class SmallNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(16, classes)

    def forward(self, x):
        return self.classifier(self.features(x))


def randomize_batch_norm_statistics(model, generator):
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            with torch.no_grad():
                module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(module.weight.shape, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)


def write_f32(path, tensor):
    tensor.detach().to(torch.float32).contiguous().numpy().astype('<f4').tofile(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('output_dir')
    parser.add_argument('--model', choices=['resnet18', 'small'], default='resnet18')
    parser.add_argument('--seed', type=int, default=1234)
    args = parser.parse_args()
    os.makedirs(args.output_dir, exist_ok=True)

    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed + 1)
    if args.model == 'resnet18':
        import torchvision
        model = torchvision.models.resnet18(weights=None)
        input_shape = [2, 3, 64, 64]
        versions = {'torch': torch.__version__, 'torchvision': torchvision.__version__}
    else:
        model = SmallNet()
        input_shape = [4, 3, 16, 16]
        versions = {'torch': torch.__version__}
    randomize_batch_norm_statistics(model, generator)
    model.eval()

    batch = torch.randn(input_shape, generator=generator)
    with torch.no_grad():
        output = model(batch)
        features = None
        if args.model == 'resnet18':
            body = nn.Sequential(*list(model.children())[:-1])
            features = torch.flatten(body(batch), 1)

    state = model.state_dict()
    torch.save(state, os.path.join(args.output_dir, 'state_dict.pt'))
    write_f32(os.path.join(args.output_dir, 'input.f32'), batch)
    write_f32(os.path.join(args.output_dir, 'output.f32'), output)
    meta = {
        'model': args.model,
        'seed': args.seed,
        'input_shape': input_shape,
        'output_shape': list(output.shape),
        'names': list(state.keys()),
        'shapes': [list(t.shape) for t in state.values()],
        'versions': versions,
    }
    if features is not None:
        write_f32(os.path.join(args.output_dir, 'features.f32'), features)
        meta['features_shape'] = list(features.shape)
    with open(os.path.join(args.output_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    print(f"wrote {args.model} reference ({len(state)} tensors) to {args.output_dir}")


if __name__ == '__main__':
    main()

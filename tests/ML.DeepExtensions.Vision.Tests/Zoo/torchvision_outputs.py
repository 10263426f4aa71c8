# Writes torchvision-outputs.txt: eval-mode outputs of torchvision 0.14 models (final Linear replaced by Identity) whose
# state-dict entries are filled, in state-dict order, by a formula the C# test repeats (see Fill). Run with Debian 12's
# python3-torchvision: /usr/bin/python3 torchvision_outputs.py > torchvision-outputs.txt
import torch
import torch.nn as nn
import torchvision
import torchvision.models as m


def fill(model):
    with torch.no_grad():
        for k, (key, t) in enumerate(model.state_dict().items()):
            if key.endswith("num_batches_tracked"):
                continue
            n = t.numel()
            # Integer hash (exact in both languages) → uniform-ish in [-1, 1]; He-like scale keeps the signal alive.
            u = ((torch.arange(n, dtype=torch.int64) * 2654435761 + k * 97531) % 20011).to(torch.float32) / 10005.5 - 1
            if key.endswith("running_var"):
                v = 1 + 0.25 * u * u
            elif key.endswith("weight") and t.dim() >= 2:
                v = u * (6.0 / (n // t.shape[0])) ** 0.5
            elif key.endswith("weight"):
                v = 1 + 0.1 * u
            else:
                v = 0.1 * u
            t.copy_(v.reshape(t.shape))


def hidden64(model, first_in):
    c = model.classifier
    for i, layer in enumerate(c):
        if isinstance(layer, nn.Linear):
            c[i] = nn.Linear(first_in if layer.in_features == first_in else 64, 64)
    return model


cases = []
alex = m.alexnet(); alex.classifier[6] = nn.Identity(); cases.append(("AlexNet hidden=64", hidden64(alex, 256 * 6 * 6), 64))
vgg = m.vgg11_bn(); vgg.classifier[6] = nn.Identity(); cases.append(("Vgg11 batchNorm=true hidden=64", hidden64(vgg, 512 * 7 * 7), 32))
for name, factory in (("ResNet18", m.resnet18), ("ResNet50", m.resnet50)):
    r = factory(); r.fc = nn.Identity(); cases.append((name, r, 64))
for name, factory in (("EfficientNetB0", m.efficientnet_b0), ("MobileNetV2", m.mobilenet_v2)):
    e = factory(); e.classifier[1] = nn.Identity(); cases.append((name, e, 64))

print(f"# torch {torch.__version__}, torchvision {torchvision.__version__}; per case: [name params] size, then per example: sum, sum of squares, first 16 values")
for name, model, size in cases:
    fill(model)
    model.eval()
    x = ((torch.arange(2 * 3 * size * size, dtype=torch.int64) * 2654435761) % 1009).to(torch.float32).reshape(2, 3, size, size) / 504.5 - 1
    with torch.no_grad():
        y = model(x)
    print(f"[{name}]")
    print(size)
    for row in y:
        values = [row.sum().item(), (row * row).sum().item()] + row[:16].tolist()
        print(" ".join(repr(float(v)) for v in values))

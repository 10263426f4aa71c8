#!/usr/bin/python3
"""PyTorch side of the --vs-pytorch benchmark (benchmarks/ML.DeepExtensions.Benchmarks/Compare/).

Usage: /usr/bin/python3 workloads.py WORKLOAD THREADS STEPS [SCORING_BATCH]

Builds the workload's network (the same layers as the C# sides, see LAYERS below and Compare/Workloads.cs), trains
it with Adam (lr 1e-3) on synthetic random inputs: one warm-up epoch of STEPS steps, then one timed epoch of STEPS
steps over the same pre-built tensors (consecutive batches; per step: zero_grad, forward, loss, backward, step,
loss.item()); then times no-grad scoring of the same rows in batches of SCORING_BATCH. Prints one JSON line:
{"workload": ..., "threads": ..., "steps": ..., "train": samples/s, "score": samples/s, "torch": version, ...}.
Meant for Debian's python3-torch 1.13 (/usr/bin/python3), installed by eng/install-reference-tools.sh.
"""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCABULARY = 5000
LENGTH = 128
CLASSES = 10

# Batch size and input shape of every workload; the C# side (Compare/Workloads.cs) uses the same numbers.
WORKLOADS = {
    "lenet5": dict(batch=64, shape=(1, 28, 28)),
    "resnet": dict(batch=32, shape=(3, 32, 32)),
    "lstm": dict(batch=32, shape=(LENGTH,)),
    "transformer": dict(batch=32, shape=(LENGTH,)),
    "mlp": dict(batch=256, shape=(100,)),
}


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: conv3x3-BN-ReLU-conv3x3-BN (+ 1x1 conv-BN shortcut where the shape changes), ReLU."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(out + shortcut)


def resnet(widths=(16, 32, 64, 128), blocks=(1, 1, 1, 1)):
    """ResNet-18-style for 32x32 (small-input stem 3x3 conv, no max-pool), width 0.25, one BasicBlock per stage."""
    layers = [nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()]
    cin = widths[0]
    for stage, (planes, count) in enumerate(zip(widths, blocks)):
        for b in range(count):
            layers.append(BasicBlock(cin, planes, 2 if stage > 0 and b == 0 else 1))
            cin = planes
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, CLASSES)]
    return nn.Sequential(*layers)


class LstmClassifier(nn.Module):
    """Embedding(5000, 128) -> LSTM(128 -> 256, 2 layers, batch_first) -> last layer's final hidden state -> Linear(256, 10)."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCABULARY, 128)
        self.lstm = nn.LSTM(128, 256, num_layers=2, batch_first=True)
        self.head = nn.Linear(256, CLASSES)

    def forward(self, ids):
        _, (h, _) = self.lstm(self.embedding(ids))
        return self.head(h[-1])


class TransformerClassifier(nn.Module):
    """Token + learned position embeddings (128) -> 2 x nn.TransformerEncoderLayer(128, 4 heads, 512, dropout 0,
    gelu, norm_first=True, batch_first=True) -> LayerNorm -> mean over positions -> Linear(128, 10)."""

    def __init__(self):
        super().__init__()
        self.token = nn.Embedding(VOCABULARY, 128)
        self.position = nn.Embedding(LENGTH, 128)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
            for _ in range(2))
        self.norm = nn.LayerNorm(128)
        self.head = nn.Linear(128, CLASSES)

    def forward(self, ids):
        x = self.token(ids) + self.position(torch.arange(ids.shape[1])).unsqueeze(0)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x).mean(1))


def build(workload):
    if workload == "lenet5":
        return nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 4 * 4, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, CLASSES))
    if workload == "resnet":
        return resnet()
    if workload == "lstm":
        return LstmClassifier()
    if workload == "transformer":
        return TransformerClassifier()
    if workload == "mlp":
        return nn.Sequential(nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 1))
    raise SystemExit(f"unknown workload {workload!r}; expected one of {', '.join(WORKLOADS)}")


def data(workload, rows):
    spec = WORKLOADS[workload]
    if workload in ("lstm", "transformer"):
        x = torch.randint(1, VOCABULARY, (rows, LENGTH))  # id 0 is padding on our side: never drawn
    else:
        x = torch.rand((rows,) + spec["shape"])
    y = torch.randn(rows, 1) if workload == "mlp" else torch.randint(0, CLASSES, (rows,))
    return x, y


def epoch(model, optimizer, loss_fn, x, y, batch, steps):
    model.train()
    total = 0.0
    for s in range(steps):
        xb, yb = x[s * batch:(s + 1) * batch], y[s * batch:(s + 1) * batch]
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / steps


def blas_library():
    """The BLAS library this process actually loaded (Debian's torch links the libblas.so.3 alternative: reference BLAS,
    OpenBLAS or BLIS, whichever is installed and selected), resolved from /proc/self/maps."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
        return ", ".join(sorted(os.path.realpath(p) for p in paths)) or "none found"
    except OSError:
        return "unknown"


def main(argv):
    if len(argv) < 4:
        raise SystemExit(__doc__)
    workload, threads, steps = argv[1], int(argv[2]), int(argv[3])
    spec = WORKLOADS.get(workload) or build(workload)
    scoring_batch = int(argv[4]) if len(argv) > 4 else 256
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    batch = spec["batch"]
    rows = batch * steps
    model = build(workload)
    x, y = data(workload, rows)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = nn.MSELoss() if workload == "mlp" else nn.CrossEntropyLoss()
    epoch(model, optimizer, loss_fn, x, y, batch, steps)  # warm-up epoch
    start = time.perf_counter()
    loss = epoch(model, optimizer, loss_fn, x, y, batch, steps)
    train = rows / (time.perf_counter() - start)

    model.eval()
    with torch.no_grad():
        model(x[:scoring_batch]).numpy()  # warm-up
        start = time.perf_counter()
        checksum = 0.0
        for s in range(0, rows, scoring_batch):
            checksum += float(model(x[s:s + scoring_batch]).numpy()[0, 0])  # copied out, like the C# sides
        score = rows / (time.perf_counter() - start)
    print(json.dumps(dict(workload=workload, threads=torch.get_num_threads(), steps=steps, batch=batch, train=train, score=score,
                          loss=loss, parameters=sum(p.numel() for p in model.parameters()), torch=torch.__version__,
                          blas=blas_library())))


if __name__ == "__main__":
    main(sys.argv)

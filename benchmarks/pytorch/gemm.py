"""Single-precision matmul GFLOP/s of this PyTorch (and the BLAS it loads) on the shapes the --vs-pytorch workloads use.

Usage: gemm.py THREADS SHAPES   where SHAPES is "m,k,n;m,k,n;..."; prints one line "m,k,n GFLOPS" per shape."""
import sys
import time

import torch

torch.set_num_threads(int(sys.argv[1]))
torch.manual_seed(1)
for shape in sys.argv[2].split(";"):
    m, k, n = (int(v) for v in shape.split(","))
    a, b = torch.randn(m, k), torch.randn(k, n)
    reps = max(20, int(1.5e9 / (2 * m * k * n)))
    for _ in range(reps // 4):
        c = a @ b
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(reps):
            c = a @ b
        best = max(best, 2 * m * k * n * reps / (time.perf_counter() - start) / 1e9)
    print(f"{m},{k},{n} {best:.2f}")

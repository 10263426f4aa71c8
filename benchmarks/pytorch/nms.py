#!/usr/bin/env python3
"""Native torchvision side of the benchmark's --detection NMS comparison (Debian python3-torchvision 0.14, /usr/bin/python3).

nms.py <boxes.f32> <scores.f32> <classes.i64> <threshold> <repeats>
    The same boxes the C# side times: raw little-endian float32 x0,y0,x1,y1 per box, float32 scores, int64 classes.
    One torch thread. Prints two lines, "nms <median ms> <kept ids comma-separated>" and "batched <median ms> <kept count>".
"""
import statistics
import sys
import time
import numpy as np
import torch
import torchvision

boxes_path, scores_path, classes_path, threshold, repeats = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(1)
boxes = torch.from_numpy(np.fromfile(boxes_path, dtype='<f4').reshape(-1, 4).copy())
scores = torch.from_numpy(np.fromfile(scores_path, dtype='<f4').copy())
classes = torch.from_numpy(np.fromfile(classes_path, dtype='<i8').copy())


def median_ms(action):
    action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


keep = torchvision.ops.nms(boxes, scores, threshold)
print(f"nms {median_ms(lambda: torchvision.ops.nms(boxes, scores, threshold)):.4f} {','.join(str(i) for i in keep.tolist())}")
batched = torchvision.ops.batched_nms(boxes, scores, classes, threshold)
print(f"batched {median_ms(lambda: torchvision.ops.batched_nms(boxes, scores, classes, threshold)):.4f} {len(batched)}")

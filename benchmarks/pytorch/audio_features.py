#!/usr/bin/env python3
"""torchaudio side of the benchmark's --audio-features comparison (Debian python3-torchaudio 0.13, run with /usr/bin/python3).

audio_features.py <samples.f32> <lengths.txt> <threads> <repeats>
    samples.f32: all utterances' 16 kHz mono samples, raw little-endian float32, back to back; lengths.txt: one sample
    count per line. Computes per utterance the log-mel spectrogram the C# package computes (n_fft 512 over a 400-sample Hann window, hop 160,
    centred with reflect padding, power 2, 40 HTK mels 0-8 kHz, AmplitudeToDB) in float32 and in float64, and prints one
    line per dtype: "<dtype> <best seconds over repeats> <utterances>".
"""
import sys
import time
import numpy as np
import torch
import torchaudio

samples_path, lengths_path, threads, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
data = np.fromfile(samples_path, dtype='<f4')
lengths = [int(x) for x in open(lengths_path).read().split()]
offsets = np.cumsum([0] + lengths)
for dtype in (torch.float32, torch.float64):
    waves = [torch.from_numpy(data[offsets[i]:offsets[i + 1]].copy()).to(dtype) for i in range(len(lengths))]
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=512, win_length=400, hop_length=160, n_mels=40, f_min=0.0, f_max=8000.0).to(dtype)
    to_db = torchaudio.transforms.AmplitudeToDB(stype='power', top_db=None)
    best = float('inf')
    with torch.no_grad():
        for _ in range(repeats):
            start = time.perf_counter()
            for w in waves:
                to_db(mel(w))
            best = min(best, time.perf_counter() - start)
    print(f"{str(dtype).replace('torch.', '')} {best:.6f} {len(waves)}")

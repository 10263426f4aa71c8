#!/usr/bin/env python3
"""Reference values for the audio package's parity tests, from Debian's torchaudio 0.13 / PyTorch 1.13.

features <samples.f32> <out-dir> <sample_rate> <n_fft> <hop> <n_mels> <f_min> <f_max> <n_mfcc>
    samples.f32: raw little-endian float32 mono samples. Writes (float32, row-major, time-major like the C# side):
    fbank_htk.f32, fbank_slaney.f32 (n_freqs x n_mels), logmel_htk.f32, logmel_slaney.f32 (frames x n_mels; AmplitudeToDB
    power, top_db=None), mfcc.f32 (frames x n_mfcc; torchaudio.transforms.MFCC, HTK mel, norm ortho, top_db 80).
ctc <logits.f32> <out.f32> <T> <N> <C> <targets comma list> <input lengths> <target lengths>
    logits (N, T, C) float32; writes the per-utterance CTC losses (reduction none) and the mean (reduction mean).
resample <samples.f32> <out.f32> <from_rate> <to_rate>
    torchaudio.functional.resample (windowed sinc, Hann window, lowpass width 6, rolloff 0.99) of raw float32 samples.
"""
import sys
import numpy as np
import torch
import torchaudio

torch.set_num_threads(1)
# The reference runs in float64 (filterbank included: torchaudio builds it with linspace in the default dtype), as the C#
# side computes; float32 rounding of small filter weights and of the FFT moves low bins by up to 4e-4 dB.
torch.set_default_dtype(torch.float64)


def write(path, tensor):
    tensor.detach().float().contiguous().numpy().astype('<f4').tofile(path)


def resample(args):
    samples, out, source, target = args
    wave = torch.from_numpy(np.fromfile(samples, dtype='<f4')).double()
    write(out, torchaudio.functional.resample(wave, int(source), int(target)))


def features(args):
    samples, out, sr, n_fft, hop, n_mels, f_min, f_max, n_mfcc = args
    sr, n_fft, hop, n_mels, n_mfcc = int(sr), int(n_fft), int(hop), int(n_mels), int(n_mfcc)
    f_min, f_max = float(f_min), float(f_max)
    # float64, as the C# side computes (float32 FFT rounding differs between libtorch builds far below a frame's peak).
    wave = torch.from_numpy(np.fromfile(samples, dtype='<f4')).double()
    to_db = torchaudio.transforms.AmplitudeToDB(stype='power', top_db=None)
    for scale in ('htk', 'slaney'):
        norm = None if scale == 'htk' else 'slaney'
        mel = torchaudio.transforms.MelSpectrogram(sample_rate=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels, f_min=f_min, f_max=f_max,
                                                   norm=norm, mel_scale=scale).double()
        write(f'{out}/fbank_{scale}.f32', mel.mel_scale.fb)
        write(f'{out}/logmel_{scale}.f32', to_db(mel(wave)).t())
    mfcc = torchaudio.transforms.MFCC(sample_rate=sr, n_mfcc=n_mfcc, melkwargs=dict(n_fft=n_fft, hop_length=hop, n_mels=n_mels, f_min=f_min, f_max=f_max)).double()
    write(f'{out}/mfcc.f32', mfcc(wave).t())


def ctc(args):
    logits_path, out, t, n, c, targets, input_lengths, target_lengths = args
    t, n, c = int(t), int(n), int(c)
    logits = torch.from_numpy(np.fromfile(logits_path, dtype='<f4')).view(n, t, c)
    log_probs = logits.log_softmax(2).transpose(0, 1)
    targets = torch.tensor([int(x) for x in targets.split(',')], dtype=torch.long)
    input_lengths = torch.tensor([int(x) for x in input_lengths.split(',')], dtype=torch.long)
    target_lengths = torch.tensor([int(x) for x in target_lengths.split(',')], dtype=torch.long)
    none = torch.nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='none', zero_infinity=True)
    mean = torch.nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean', zero_infinity=True)
    write(out, torch.cat([none, mean.view(1)]))


if __name__ == '__main__':
    {'features': features, 'ctc': ctc, 'resample': resample}[sys.argv[1]](sys.argv[2:])

#!/usr/bin/env bash
# Installs the reference implementations the parity tests compare against: Debian's PyTorch 1.13 and
# torchvision 0.14 (python3-torchvision pulls python3-torch), torchaudio 0.13 (log-mel / MFCC parity of the audio
# package), the ONNX checker the export tests run (python3-onnx 1.12, opsets up to 17), all under /usr/bin/python3;
# espeak-ng, the speech synthesiser that generates the audio package's spoken-digits corpus at test time;
# pocketsphinx-testdata (BSD-2: 14 recordings with transcripts under /usr/share/pocketsphinx/test/data), the real
# recordings the speech benchmark (--speech) evaluates on; and the two object sources of the detection canvases beyond
# the committed Fashion-MNIST subset: Debian's dataset-fashion-mnist (the full 60,000 + 10,000 items, MIT;
# /usr/share/datasets/fashion-mnist) and opencv-doc 4.6.0 (OpenCV's samples, among them
# /usr/share/doc/opencv-doc/examples/data/digits.png, 5,000 handwritten 20x20 digits; Apache-2.0 AND BSD-3-Clause).
# Idempotent: returns at once when they are already present. Needs root (or sudo) only when installing.
set -euo pipefail

PYTHON=/usr/bin/python3
PHRASES=/usr/share/pocketsphinx/test/data/cards/cards.transcription
DIGITS=/usr/share/doc/opencv-doc/examples/data/digits.png
FASHION=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
present() {
  [ -x "$PYTHON" ] && "$PYTHON" -c 'import torch, torchvision, torchaudio, onnx' >/dev/null 2>&1 && command -v espeak-ng >/dev/null 2>&1 \
    && [ -f "$PHRASES" ] && [ -f "$DIGITS" ] && [ -f "$FASHION" ]
}
if present; then
  echo "Reference tools present: $("$PYTHON" -c 'import torch, torchvision, torchaudio, onnx; print("torch", torch.__version__, "torchvision", torchvision.__version__, "torchaudio", torchaudio.__version__, "onnx", onnx.__version__)'), $(espeak-ng --version | head -n 1), pocketsphinx-testdata, $DIGITS, $FASHION"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-reference-tools.sh: python3-torchvision, python3-torchaudio, python3-onnx, espeak-ng, pocketsphinx-testdata, opencv-doc or dataset-fashion-mnist is missing and installing them needs root (no sudo found)." >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends python3-torchvision python3-torchaudio python3-onnx espeak-ng pocketsphinx-testdata opencv-doc dataset-fashion-mnist
"$PYTHON" -c 'import torch, torchvision, torchaudio, onnx; print("Installed: torch", torch.__version__, "torchvision", torchvision.__version__, "torchaudio", torchaudio.__version__, "onnx", onnx.__version__)'
espeak-ng --version | head -n 1
for file in "$PHRASES" "$DIGITS" "$FASHION"; do
  if [ ! -f "$file" ]; then
    echo "install-reference-tools.sh: the packages installed, but $file is missing." >&2
    exit 1
  fi
done
ls -l "$PHRASES" "$DIGITS" "$FASHION"

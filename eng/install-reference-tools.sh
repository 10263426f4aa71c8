#!/usr/bin/env bash
# Installs the reference implementations the parity tests compare against: Debian's PyTorch 1.13 and
# torchvision 0.14 (python3-torchvision pulls python3-torch), and the ONNX checker the export tests run
# (python3-onnx 1.12, opsets up to 17), all under /usr/bin/python3.
# Idempotent: returns at once when they already import. Needs root (or sudo) only when installing.
set -euo pipefail

PYTHON=/usr/bin/python3
if [ -x "$PYTHON" ] && "$PYTHON" -c 'import torch, torchvision, onnx' >/dev/null 2>&1; then
  echo "Reference tools present: $("$PYTHON" -c 'import torch, torchvision, onnx; print("torch", torch.__version__, "torchvision", torchvision.__version__, "onnx", onnx.__version__)')"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-reference-tools.sh: python3-torchvision or python3-onnx is missing and installing them needs root (no sudo found)." >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends python3-torchvision python3-onnx
"$PYTHON" -c 'import torch, torchvision, onnx; print("Installed: torch", torch.__version__, "torchvision", torchvision.__version__, "onnx", onnx.__version__)'

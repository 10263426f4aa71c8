#!/usr/bin/env bash
# Installs the reference implementations the parity tests compare against: Debian's PyTorch 1.13 and
# torchvision 0.14 (python3-torchvision pulls python3-torch), run under /usr/bin/python3.
# Idempotent: returns at once when they already import. Needs root (or sudo) only when installing.
set -euo pipefail

PYTHON=/usr/bin/python3
if [ -x "$PYTHON" ] && "$PYTHON" -c 'import torch, torchvision' >/dev/null 2>&1; then
  echo "Reference tools present: $("$PYTHON" -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__)')"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-reference-tools.sh: python3-torchvision is missing and installing it needs root (no sudo found)." >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends python3-torchvision
"$PYTHON" -c 'import torch, torchvision; print("Installed: torch", torch.__version__, "torchvision", torchvision.__version__)'

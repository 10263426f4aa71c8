#!/usr/bin/env bash
# Fetches the full Fashion-MNIST set (60,000 + 10,000 grey 28x28 images, MIT) from Debian's
# dataset-fashion-mnist package into a cache outside the repository, verifies it, and prints the folder.
# Needs only apt's package lists (no root needed for `apt-get download`). Idempotent: a verified cache is reused.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${MLDX_DATA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ml-deepextensions}/fashion-mnist"
mkdir -p "$cache"
cd "$cache"

files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
have_all=true
for f in "${files[@]}"; do [[ -s "$f" ]] || have_all=false; done
if ! $have_all; then
  rm -f ./*.deb
  if ! apt-get download dataset-fashion-mnist >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get download dataset-fashion-mnist >/dev/null
  fi
  deb=$(ls ./dataset-fashion-mnist_*.deb)
  dpkg-deb -x "$deb" extracted
  cp extracted/usr/share/datasets/fashion-mnist/*.gz .
  rm -rf extracted "$deb"
fi
sha256sum -c --quiet "$here/fashion-mnist.sha256" >&2
echo "$cache"

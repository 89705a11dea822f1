#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages Plume needs to build and test, if any are missing,
# then (unless --runtime-only) the npm packages of the Sentry envelope checker
# (tests/support/envelope_check, @sentry/core pinned by its package-lock.json).
# Runs apt-get as root, or through sudo. Safe to run repeatedly: does nothing when
# everything is present.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runtime_only=0
[ "${1:-}" = "--runtime-only" ] && runtime_only=1

packages=(
  build-essential cmake pkg-config
  zlib1g-dev libcurl4-openssl-dev libmsgpack-dev libunwind-dev libcmocka-dev libzstd-dev
  # tests: fuzzers (clang + libFuzzer runtime), receivers and integration tests
  clang libclang-rt-14-dev python3 python3-zstandard python3-jsonschema
  # benchmarks: the SDK's spdlog async comparison (tests/bench/bench_spdlog.cpp)
  g++ libspdlog-dev
)
if [ $runtime_only -eq 1 ]; then
  packages=(build-essential cmake pkg-config zlib1g-dev libcurl4-openssl-dev libmsgpack-dev
            libunwind-dev libcmocka-dev libzstd-dev)
fi

# the Sentry envelope checker runs on Node.js (>= 18) with npm: Debian's when the
# machine has none of its own
if [ $runtime_only -eq 0 ] && ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
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
fi
[ $runtime_only -eq 1 ] && exit 0

# The envelope checker's node_modules, when absent or older than the lock
# (npm ci writes node_modules/.package-lock.json on every install).
check="$root/tests/support/envelope_check"
if [ ! -f "$check/node_modules/.package-lock.json" ] ||
   [ "$check/package-lock.json" -nt "$check/node_modules/.package-lock.json" ]; then
  if ! command -v npm >/dev/null; then
    echo "setup: npm is missing: the Sentry envelope checker ($check) needs Node.js >= 18 with npm" >&2
    exit 1
  fi
  echo "setup: npm ci in tests/support/envelope_check" >&2
  if ! out=$(npm ci --prefix "$check" --no-audit --no-fund --loglevel=error 2>&1); then
    echo "$out" >&2
    echo "setup: npm ci failed in $check" >&2
    exit 1
  fi
fi

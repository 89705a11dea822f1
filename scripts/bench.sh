#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds an optimised agent and runs the benchmarks, printing their figures.
# LINES=N overrides the 1M lines of the stdin benchmark, ROUNDS=N its 3 rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DPLUME_BENCH=ON >/dev/null
cmake --build build-bench -j"$(nproc)" >/dev/null
echo "== stdin -> Axiom sink -> local receiver"
/usr/bin/python3 tests/bench/bench_stdin.py build-bench "${LINES:-1000000}" "${ROUNDS:-3}"

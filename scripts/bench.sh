#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds an optimised agent and SDK and runs the benchmarks, printing their figures.
# LINES=N overrides the 1M lines of the stdin benchmark, ROUNDS=N its 3 rounds;
# SDK_ONLY=1 skips the stdin benchmark (the SDK part also times
# plume_capture_error, breadcrumbs and the crash handler). The SDK benchmark's knobs (SDK_ROUNDS, SDK_CALLS,
# SDK_RATE, SDK_BREADCRUMB_RATE, SUSTAINED_RATE, SUSTAINED_SECONDS) are described in
# tests/bench/bench_sdk.py. BENCH_BUILD=DIR builds in DIR instead of build-bench.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
build="${BENCH_BUILD:-build-bench}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPLUME_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
if [ "${SDK_ONLY:-0}" != "1" ]; then
  echo "== stdin -> Axiom sink -> local receiver"
  /usr/bin/python3 tests/bench/bench_stdin.py "$build" "${LINES:-1000000}" "${ROUNDS:-3}"
fi
echo "== SDK log call latency vs spdlog async"
/usr/bin/python3 tests/bench/bench_sdk.py "$build"
echo "== SDK errors: plume_capture_error caller cost (20-frame stack), breadcrumb add"
"$build/tests/bench/bench_capture"
echo "== SDK crash handler: signal -> report on disk"
"$build/tests/bench/bench_crash" 300

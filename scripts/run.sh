#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds plume-agent and runs it on the repository's agent.toml, shipping a sample
# of log lines from stdin. Works offline: without AXIOM_TOKEN/AXIOM_DATASET the
# events go to the console sink. Arguments are passed to plume-agent; standard
# input is used when it is not a terminal, examples/shipper/sample.log otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --runtime-only
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target plume-agent >/dev/null
export PLUME_DATA_DIR="${PLUME_DATA_DIR:-$PWD/build/plume-data}"
if [ -t 0 ]; then
  exec ./build/plume-agent --config agent.toml --stdin "$@" < examples/shipper/sample.log
fi
exec ./build/plume-agent --config agent.toml --stdin "$@"

#!/usr/bin/env bash
# Install, build, and run the main demonstration (the worker pool).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target worker_pool
./build/bin/worker_pool

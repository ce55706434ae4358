#!/usr/bin/env bash
# Builds the native C ring baseline (bench/native/ring_bench.c) into
# .tools/bench/ring_bench and prints its path; rebuilds only when an input
# changed (see scripts/zig_cc.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/scripts/zig_cc.sh" "$root/bench/native/ring_bench.c" "$root/.tools/bench/ring_bench" \
  -std=c11 -O3 -march=native -pthread -Wall -Wextra

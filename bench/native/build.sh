#!/usr/bin/env bash
# Builds a native C bench program — the ring baseline (bench/native/ring_bench.c,
# the default) or the given one (wake_bench) — into .tools/bench/NAME and
# prints its path; rebuilds only when an input changed (see scripts/zig_cc.sh).
#
# Usage: bench/native/build.sh [ring_bench|wake_bench]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
name=${1:-ring_bench}
exec "$root/scripts/zig_cc.sh" "$root/bench/native/$name.c" "$root/.tools/bench/$name" \
  -std=c11 -O3 -march=native -pthread -Wall -Wextra

#!/usr/bin/env bash
# Builds the native C ring baseline (bench/native/ring_bench.c) with the
# project's pinned Zig into .tools/bench/ring_bench and prints the binary's
# path on stdout. Rebuilds only when the source, the flags, the compiler or
# the host CPU changed (a stamp file records the last build's inputs), so
# calling it before every benchmark run costs almost nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
src="$root/bench/native/ring_bench.c"
out_dir="$root/.tools/bench"
bin="$out_dir/ring_bench"
stamp="$bin.stamp"
flags=(-std=c11 -O3 -march=native -pthread -Wall -Wextra)

zig=$("$root/scripts/install_zig.sh")
# -march=native binds the binary to this CPU model, so the model is an input too.
cpu=$(grep -m1 -E '^(model name|Model|CPU part)' /proc/cpuinfo 2>/dev/null || true)
want=$(
  {
    sha256sum "$src"
    echo "${flags[*]}"
    echo "$zig"
    cat "$root/.tools/zig/VERSION" 2>/dev/null || true
    uname -m
    echo "$cpu"
  } | sha256sum | cut -d' ' -f1
)

if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "$want" ]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$out_dir"
# Build under a private name and rename, so concurrent builds never expose a half-written file.
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# shellcheck disable=SC2086 # $zig is a command line ("env PYTHONPATH=… python3 -m ziglang")
$zig cc "${flags[@]}" -o "$tmp" "$src" >&2
mv -f "$tmp" "$bin"
echo "$want" >"$stamp"
echo "$bin"

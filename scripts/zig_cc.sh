#!/usr/bin/env bash
# Usage: zig_cc.sh SOURCE.c OUTPUT [CC FLAGS…]
# Compiles one C file with the project's pinned Zig (`zig cc`) and prints the
# binary's path on stdout. A stamp beside the binary records the last build's
# inputs (source, flags, compiler, machine and CPU model — -march=native binds
# a binary to it), so the compiler runs only when one of them changed;
# compiler chatter goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=$1
bin=$2
shift 2
flags=("$@")
stamp="$bin.stamp"

zig=$("$root/scripts/install_zig.sh")
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

mkdir -p "$(dirname "$bin")"
# Compile to a private name, then rename: a concurrent caller never runs a half-written file.
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# shellcheck disable=SC2086 # $zig is a command line ("env PYTHONPATH=… python3 -m ziglang")
$zig cc "${flags[@]}" -o "$tmp" "$src" >&2
mv -f "$tmp" "$bin"
echo "$want" >"$stamp"
echo "$bin"

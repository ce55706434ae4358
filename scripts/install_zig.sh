#!/usr/bin/env bash
# Installs the pinned Zig (PyPI's `ziglang`) under .tools/zig and prints the
# command that runs it. Idempotent; needs only python3 and pip.
set -euo pipefail
ZIG_VERSION=0.15.2
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.tools/zig"
if [ ! -f "$dest/ziglang/__main__.py" ] || ! grep -qx "$ZIG_VERSION" "$dest/VERSION" 2>/dev/null; then
  rm -rf "$dest"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$dest" "ziglang==$ZIG_VERSION" >&2
  echo "$ZIG_VERSION" >"$dest/VERSION"
fi
echo "env PYTHONPATH=$dest python3 -m ziglang"
